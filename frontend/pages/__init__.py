"""Page handlers, one module per area."""
