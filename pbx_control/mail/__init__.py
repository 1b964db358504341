"""Mail: an outbox in PostgreSQL and a sender that hands it to the SMTP relay."""
