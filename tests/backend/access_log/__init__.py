"""Tests for backend.access_log."""
