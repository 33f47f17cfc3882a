"""Vitrine back end: core services, records, access log and the composition roots."""
