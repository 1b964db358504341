-- The call policy against toll fraud (pbx_control/policy): per organization, which classes of
-- outside destinations (routing/destinations.py) may be dialled, forwarded to, transferred to and
-- used as an answer group's overflow or night destination; the most concurrent calls out through
-- the trunk and the longest one. An admin narrows dial, forward and transfer per user.
-- Calls inside the organization and emergency numbers are always allowed and not listed here.
-- No row: the defaults (national and mobile; premium and international refused; no limits).

CREATE TABLE call_policies (
    organization_id     bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    dial                text[] NOT NULL DEFAULT '{national,mobile}'
                        CHECK (dial <@ '{national,mobile,international,premium}'::text[]),
    forward             text[] NOT NULL DEFAULT '{national,mobile}'
                        CHECK (forward <@ '{national,mobile,international,premium}'::text[]),
    transfer            text[] NOT NULL DEFAULT '{national,mobile}'
                        CHECK (transfer <@ '{national,mobile,international,premium}'::text[]),
    overflow            text[] NOT NULL DEFAULT '{national,mobile}'
                        CHECK (overflow <@ '{national,mobile,international,premium}'::text[]),
    -- NULL: no limit.
    max_outside_calls   integer CHECK (max_outside_calls BETWEEN 1 AND 10000),
    max_call_seconds    integer CHECK (max_call_seconds BETWEEN 1 AND 86400),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- A user's narrowing: NULL is "as the organization"; a list is intersected with the organization's.
CREATE TABLE user_call_policies (
    user_id             bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    dial                text[] CHECK (dial <@ '{national,mobile,international,premium}'::text[]),
    forward             text[] CHECK (forward <@ '{national,mobile,international,premium}'::text[]),
    transfer            text[] CHECK (transfer <@ '{national,mobile,international,premium}'::text[]),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The dialplan reads the limits before every leg out through the trunk (extensions_policy.conf),
-- also in the fallback: REALTIME_FIELD(pbxorgout,id,<slug>,max_outside|max_call_s); '' is none.
CREATE OR REPLACE VIEW pbx_org_outbound AS
    SELECT o.slug AS id,
           coalesce(o.main_number, '') AS callerid,
           (SELECT 'trunk_' || t.name FROM trunks t ORDER BY t.id LIMIT 1) AS trunk,
           coalesce(p.max_outside_calls::text, '') AS max_outside,
           coalesce(p.max_call_seconds::text, '') AS max_call_s
      FROM organizations o
      LEFT JOIN call_policies p ON p.organization_id = o.id;

-- ---------------------------------------------------------------------------------------------
-- Answer groups (issue 13 item 8): every login or logout in an in-order group, and every change of
-- strategy or members, makes a new queue generation (app_queue fixes a queue's ring order when it
-- builds it). A caller already waiting stays in the queue it entered, and app_queue reads that
-- queue and its members again by name before every ring attempt. Only the generation before was
-- readable (004), so a caller waiting through two changes found its queue gone and left for the
-- overflow. Now each generation a group leaves is kept here, readable while a caller may still
-- wait in it (the group's max_wait and one ring time, plus a minute), and removed a day later.
CREATE TABLE answer_group_generations (
    queue_name  text PRIMARY KEY,
    group_id    bigint NOT NULL REFERENCES answer_groups (id) ON DELETE CASCADE,
    generation  integer NOT NULL,
    retired_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX answer_group_generations_group_id ON answer_group_generations (group_id, retired_at);

CREATE FUNCTION answer_groups_retire_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.generation IS DISTINCT FROM OLD.generation THEN
        INSERT INTO answer_group_generations (queue_name, group_id, generation)
             VALUES (OLD.queue_name, OLD.id, OLD.generation)
        ON CONFLICT (queue_name) DO UPDATE SET retired_at = now();
        DELETE FROM answer_group_generations
         WHERE group_id = OLD.id AND retired_at < now() - interval '1 day';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER answer_groups_retire_generation AFTER UPDATE OF generation ON answer_groups
    FOR EACH ROW EXECUTE FUNCTION answer_groups_retire_generation();

-- Groups changed before this migration: their previous generation, as 004 kept it readable.
INSERT INTO answer_group_generations (queue_name, group_id, generation)
     SELECT previous_queue_name, id, generation - 1 FROM answer_groups WHERE generation > 1
ON CONFLICT DO NOTHING;

-- The names app_queue may ask for: the current generation (index answer_groups_queue_name) and
-- the retired ones a caller may still wait in (primary key); one row per name.
CREATE OR REPLACE VIEW answer_group_queue_names AS
    SELECT id, queue_name AS name, generation FROM answer_groups
    UNION ALL
    SELECT r.group_id, r.queue_name, r.generation
      FROM answer_group_generations r
      JOIN answer_groups g ON g.id = r.group_id
     WHERE r.retired_at > now() - make_interval(secs => g.max_wait + g.ring_time + 60);
