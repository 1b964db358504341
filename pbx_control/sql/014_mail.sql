-- The mail outbox (pbx_control/mail): every mail waits here until the SMTP relay took it, so a relay
-- that is down delays mail without losing it. The sender retries with backoff (next_try_at).
CREATE TABLE mails (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    to_address          text NOT NULL CHECK (length(to_address) BETWEEN 3 AND 254),
    subject             text NOT NULL,
    body_text           text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    attempts            integer NOT NULL DEFAULT 0,
    next_try_at         timestamptz NOT NULL DEFAULT now(),
    last_error          text,
    sent_at             timestamptz
);
CREATE INDEX mails_pending ON mails (next_try_at) WHERE sent_at IS NULL;

-- Attachments go with their mail and are dropped once it is sent.
CREATE TABLE mail_attachments (
    mail_id             bigint NOT NULL REFERENCES mails (id) ON DELETE CASCADE,
    position            integer NOT NULL,
    filename            text NOT NULL,
    content_type        text NOT NULL,
    data                bytea NOT NULL,
    PRIMARY KEY (mail_id, position)
);
