"""Authentication and acting context: sessions, OpenID Connect, institution assertions, guards."""
