"""Mandates: who may help whom, with what, until when."""
