"""Tests for backend.core.identity."""
