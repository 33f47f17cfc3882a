"""Delivery channels: the inbox is the notice itself; e-mail (eBox pattern) and Web Push (VAPID) here."""
