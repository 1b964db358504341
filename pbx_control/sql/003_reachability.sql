-- Reachability: activities (spoken redirect), custom settings (closed phone, forwards, temporary
-- outgoing caller id) and the voicemail boxes Asterisk reads (realtime view).
-- An end time (until) of NULL means "until further notice". Expiry is evaluated at decision time:
-- nothing has to run when an activity or a setting ends.

-- A user's own activities: label, the phrase spoken after their name, default duration, destination.
CREATE TABLE custom_activities (
    id                  bigserial PRIMARY KEY,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label               text NOT NULL CHECK (length(label) BETWEEN 1 AND 60),
    spoken_text         text NOT NULL CHECK (length(spoken_text) BETWEEN 1 AND 200),
    -- NULL: until further notice unless the user gives an end time.
    default_minutes     integer CHECK (default_minutes BETWEEN 1 AND 43200),
    -- What callers get after the announcement: voicemail, a forward number, the operator, or ringing anyway.
    destination         text NOT NULL DEFAULT 'voicemail'
                        CHECK (destination IN ('voicemail', 'forward', 'operator', 'ring')),
    -- An extension of the organization or E.164; only with destination 'forward'.
    forward_to          text CHECK (forward_to ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((destination = 'forward') = (forward_to IS NOT NULL))
);
CREATE INDEX custom_activities_user_id ON custom_activities (user_id);

-- The current activity; no row (or kind 'available') is Available.
CREATE TABLE user_activities (
    user_id             bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kind                text NOT NULL CHECK (kind IN ('available', 'busy', 'meeting', 'lunch', 'gone', 'custom')),
    custom_activity_id  bigint REFERENCES custom_activities (id) ON DELETE CASCADE,
    until               timestamptz,
    -- Copied from the custom activity when set (built-ins: voicemail), so a call reads one row.
    destination         text NOT NULL DEFAULT 'voicemail'
                        CHECK (destination IN ('voicemail', 'forward', 'operator', 'ring')),
    forward_to          text CHECK (forward_to ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    note                text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    -- The sentence the caller hears, and its audio file (hash of text and voice) once generated.
    -- NULL prompt: not made yet (the prompt worker makes it); a call then skips the announcement.
    prompt_text         text,
    prompt              text CHECK (prompt ~ '^[0-9a-f]{32}$'),
    -- The name and language the prompt was made with: after a rename or a change of language the
    -- stale prompt is skipped by calls and made again by the worker.
    prompt_name         text,
    prompt_language     text,
    set_at              timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'custom') = (custom_activity_id IS NOT NULL)),
    CHECK ((destination = 'forward') = (forward_to IS NOT NULL))
);
-- The prompt worker looks for activities still on whose prompt is missing or stale.
CREATE INDEX user_activities_on ON user_activities (until) WHERE kind <> 'available';
CREATE INDEX user_activities_custom ON user_activities (custom_activity_id) WHERE custom_activity_id IS NOT NULL;

-- The prompt worker (pbx_control.reachability.worker) listens: an activity without its audio, or
-- a user renamed or speaking another language, wakes it. It also looks every few seconds.
CREATE FUNCTION pbx_prompts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pbx_prompts', '');
    RETURN NULL;
END $$;
CREATE TRIGGER user_activities_prompt AFTER INSERT OR UPDATE ON user_activities
    FOR EACH ROW WHEN (NEW.kind <> 'available' AND NEW.prompt IS NULL)
    EXECUTE FUNCTION pbx_prompts_notify();
CREATE TRIGGER users_prompt AFTER UPDATE OF name, language ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.language IS DISTINCT FROM NEW.language)
    EXECUTE FUNCTION pbx_prompts_notify();

CREATE TABLE user_settings (
    user_id                     bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    closed                      boolean NOT NULL DEFAULT false,
    closed_until                timestamptz,
    forward_all                 text CHECK (forward_all ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    forward_all_until           timestamptz,
    forward_busy                text CHECK (forward_busy ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    forward_no_answer           text CHECK (forward_no_answer ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    forward_no_answer_seconds   integer NOT NULL DEFAULT 20 CHECK (forward_no_answer_seconds BETWEEN 5 AND 120),
    outgoing_callerid           text CHECK (outgoing_callerid IN ('main', 'own', 'hidden')),
    outgoing_callerid_until     timestamptz
);

-- The routing handler looks a caller up by (user_id, number) (index from 002) and by kind.
CREATE INDEX caller_lists_user_kind ON caller_lists (user_id, kind);

-- Voicemail boxes for app_voicemail (realtime, extconfig `voicemail => pgsql,general,...`):
-- mailbox <extension>@<organization slug>. The password is a string of hex digits no phone can
-- type: the box is opened only by dialling 001 from one's own device (VoiceMailMain option s).
CREATE VIEW pbx_voicemail_users AS
    SELECT u.id::text AS uniqueid,
           o.slug AS context,
           u.extension AS mailbox,
           'x' || substr(md5(u.password_hash || u.id::text), 1, 15) AS password,
           regexp_replace(u.name, '[[:cntrl:]"<>\\|,]', '', 'g') AS fullname,
           NULL::text AS email,
           NULL::text AS pager
      FROM users u
      JOIN organizations o ON o.id = u.organization_id
     WHERE u.extension IS NOT NULL;
