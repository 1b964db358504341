-- Visual voicemail (pbx_control/voicemail). Asterisk's app_voicemail keeps the messages (its spool);
-- these tables hold what the app needs beside them: each user's box settings and limits, a mirror of
-- the messages Asterisk reported (numeric ids for the API, the caller's name as resolved when the
-- message arrived, whether it was mailed), and the boxes to empty after a user went away.

CREATE TABLE voicemail_boxes (
    user_id             bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Voicemail to mail: on/off and where to (NULL: the user's own users.email).
    mail_enabled        boolean NOT NULL DEFAULT false,
    mail_to             text CHECK (mail_to IS NULL OR length(mail_to) BETWEEN 3 AND 254),
    -- Limits set by an admin (NULL: voicemail.conf's 100 messages, 300 s).
    max_messages        integer CHECK (max_messages BETWEEN 1 AND 9999),
    max_seconds         integer CHECK (max_seconds BETWEEN 5 AND 3600),
    -- Played messages older than this many days are removed (NULL: kept).
    retention_days      integer CHECK (retention_days BETWEEN 1 AND 3650),
    -- The default greeting written for the box: what it says (name|language|box), so a rename, a new
    -- language or a new extension makes it again.
    default_greeting_for text,
    -- sha256 of the default greeting written into the box (unavail.wav, busy.wav): a file there with
    -- another content is the owner's own greeting, never overwritten.
    default_greeting_sha text,
    default_greeting_attempts integer NOT NULL DEFAULT 0,
    default_greeting_next_try timestamptz
);

CREATE TABLE voicemail_messages (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    msg_id              text NOT NULL CHECK (msg_id ~ '^[0-9]{1,20}-[0-9a-f]{8}$'),
    folder              text NOT NULL,
    caller_number       text,
    caller_name         text,
    received_at         timestamptz NOT NULL,
    duration_s          integer NOT NULL,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, msg_id)
);
CREATE INDEX voicemail_messages_user ON voicemail_messages (user_id, received_at DESC, id DESC);

-- A box whose owner is gone (deleted, or given another extension): its messages and greetings are
-- removed through AMI by the purge worker, only what is older than `before`.
CREATE TABLE voicemail_purges (
    id                  bigserial PRIMARY KEY,
    context             text NOT NULL,
    mailbox             text NOT NULL,
    before              timestamptz NOT NULL DEFAULT now(),
    attempts            integer NOT NULL DEFAULT 0,
    next_try_at         timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION pbx_voicemail_purge_box() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    slug text;
BEGIN
    IF OLD.extension IS NULL OR (TG_OP = 'UPDATE' AND NEW.extension IS NOT DISTINCT FROM OLD.extension) THEN
        RETURN NULL;
    END IF;
    SELECT o.slug INTO slug FROM organizations o WHERE o.id = OLD.organization_id;
    IF slug IS NOT NULL THEN
        INSERT INTO voicemail_purges (context, mailbox) VALUES (slug, OLD.extension);
        PERFORM pg_notify('pbx_voicemail', 'purge');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER voicemail_purge_on_user_delete AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION pbx_voicemail_purge_box();
CREATE TRIGGER voicemail_purge_on_extension_change AFTER UPDATE OF extension ON users
    FOR EACH ROW EXECUTE FUNCTION pbx_voicemail_purge_box();

-- An organization deleted: its users go by cascade after it, when its slug is no longer readable.
CREATE FUNCTION pbx_voicemail_purge_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO voicemail_purges (context, mailbox)
        SELECT OLD.slug, u.extension FROM users u WHERE u.organization_id = OLD.id AND u.extension IS NOT NULL;
    PERFORM pg_notify('pbx_voicemail', 'purge');
    RETURN OLD;
END $$;

CREATE TRIGGER voicemail_purge_on_org_delete BEFORE DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION pbx_voicemail_purge_org();

-- The boxes app_voicemail reads (003), now with the admin's limits (realtime columns maxmsg and
-- maxsecs; NULL: voicemail.conf's [general]). A box waiting for its purge stays known to
-- app_voicemail until it is emptied, because its AMI actions act only on boxes it knows; no call
-- reaches it (the routing sends callers and 001 only to users' boxes).
CREATE OR REPLACE VIEW pbx_voicemail_users AS
    SELECT u.id::text AS uniqueid,
           o.slug AS context,
           u.extension AS mailbox,
           'x' || substr(md5(u.password_hash || u.id::text), 1, 15) AS password,
           regexp_replace(u.name, '[[:cntrl:]"<>\\|,]', '', 'g') AS fullname,
           NULL::text AS email,
           NULL::text AS pager,
           b.max_messages::text AS maxmsg,
           b.max_seconds::text AS maxsecs
      FROM users u
      JOIN organizations o ON o.id = u.organization_id
      LEFT JOIN voicemail_boxes b ON b.user_id = u.id
     WHERE u.extension IS NOT NULL
    UNION ALL
    SELECT DISTINCT ON (p.context, p.mailbox)
           'purge' || p.id, p.context, p.mailbox, 'x' || substr(md5(p.id::text || p.before::text), 1, 15),
           '', NULL, NULL, NULL, NULL
      FROM voicemail_purges p
     WHERE NOT EXISTS (SELECT 1 FROM users u JOIN organizations o ON o.id = u.organization_id
                        WHERE o.slug = p.context AND u.extension = p.mailbox);
