"""People, organisations, staff and their identifiers."""
