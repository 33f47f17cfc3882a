"""Notifications: inbox, e-mail and Web Push, delivered once."""
