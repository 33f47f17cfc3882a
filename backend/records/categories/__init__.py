"""The built-in categories, one module each: a payload Struct and its registry entry."""
