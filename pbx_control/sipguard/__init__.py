"""Password guessing over SIP slowed down: addresses with too many failed logins are refused."""
