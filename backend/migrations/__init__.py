"""Numbered, forward-only SQL migrations (NNNN_<what>.sql), applied by backend.core.migrations."""
