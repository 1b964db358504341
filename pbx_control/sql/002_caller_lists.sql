-- Per-user caller lists: VIP callers ring through any diversion; blocked callers hear busy.
-- Shared by the routing decision (reads) and the directory (marks contacts VIP or blocked).
CREATE TABLE caller_lists (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- E.164 (+46...) or an internal extension of the user's organization.
    number          text NOT NULL CHECK (number ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    kind            text NOT NULL CHECK (kind IN ('vip', 'blocked')),
    -- Set when the mark came from a contact in a phonebook (the directory owns that link).
    contact_id      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, number, kind)
);
CREATE INDEX caller_lists_lookup ON caller_lists (user_id, number);

-- Anonymous callers (no caller id) may be blocked as a whole.
ALTER TABLE users ADD COLUMN block_anonymous boolean NOT NULL DEFAULT false;
