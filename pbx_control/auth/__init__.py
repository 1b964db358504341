"""Authentication: bcrypt passwords, opaque bearer tokens, login."""
