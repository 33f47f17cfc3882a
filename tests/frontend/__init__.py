"""Tests for the frontend package."""
