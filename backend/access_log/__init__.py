"""The access log: every access to a person's data, written with the access, hash-chained, verifiable."""
