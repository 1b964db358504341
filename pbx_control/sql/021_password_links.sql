-- Set-password links (tenancy/password_links.py): the welcome mail's and the reset mail's. The mail
-- holds a random token; only its sha256 is kept here. A link sets the password once, before it
-- expires (judged on the service's clock); setting a password deletes every other link of the user.
CREATE TABLE password_links (
    token_sha256        bytea PRIMARY KEY,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose             text NOT NULL CHECK (purpose IN ('welcome', 'reset')),
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_links_user_id ON password_links (user_id);
