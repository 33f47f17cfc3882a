"""Vitrine."""
