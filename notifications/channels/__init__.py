"""Delivery channels: the inbox is the notice itself; e-mail here; Web Push later."""
