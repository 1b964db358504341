"""Call history: every call a user took part in, derived from Asterisk's own channel events."""
