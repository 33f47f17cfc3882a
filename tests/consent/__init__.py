"""Tests for mandates (consent)."""
