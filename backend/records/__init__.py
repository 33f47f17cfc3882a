"""What is held about a person: the category registry, the ingest of declarations, institution look-ups and
the derived views kept at ingest (the flexi counter)."""
