-- Answer groups ("svarsgrupper"): groups, who may answer them, who is logged in.
-- PostgreSQL is the truth; Asterisk's app_queue reads the groups and their logged-in members live
-- through the realtime views at the end (see pbx_control/groups/__init__.py for why realtime).

CREATE TABLE answer_groups (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    extension           text NOT NULL CHECK (extension ~ '^[1-9][0-9]{1,7}$'),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- app_queue strategy names.
    strategy            text NOT NULL DEFAULT 'ringall'
                        CHECK (strategy IN ('ringall', 'linear', 'rrmemory', 'leastrecent', 'fewestcalls', 'random')),
    ring_time           integer NOT NULL DEFAULT 20 CHECK (ring_time BETWEEN 2 AND 300),
    max_wait            integer NOT NULL DEFAULT 120 CHECK (max_wait BETWEEN 2 AND 3600),
    -- {"kind": "user"|"group"|"voicemail"|"external"|"answering_service", "user_id"|"group_id"|"number": ...}
    -- Validated by pbx_control.groups.model; a target deleted later is treated as none at call time.
    overflow            jsonb,
    night_destination   jsonb,
    night_manual        boolean NOT NULL DEFAULT false,
    -- [{"day": "mon", "open": "08:00", "close": "17:00"}, ...]; empty: no schedule (always open).
    schedule            jsonb NOT NULL DEFAULT '[]',
    -- [{"date": "2026-12-24", "name": "Julafton"}, ...]: closed all day (when a schedule is set).
    holidays            jsonb NOT NULL DEFAULT '[]',
    -- NULL: the organization's timezone.
    timezone            text,
    -- Part of the Asterisk queue name; bumped when app_queue must build the queue afresh (strategy
    -- change; membership change of an in-order group, whose ring order app_queue fixes at load).
    generation          integer NOT NULL DEFAULT 1,
    queue_name          text GENERATED ALWAYS AS ('g' || id::text || 'v' || generation::text) STORED,
    -- The generation before: callers already waiting in it keep their queue until they leave it.
    previous_queue_name text GENERATED ALWAYS AS ('g' || id::text || 'v' || (generation - 1)::text) STORED,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, extension)
);
CREATE UNIQUE INDEX answer_groups_queue_name ON answer_groups (queue_name);
CREATE UNIQUE INDEX answer_groups_previous_queue_name ON answer_groups (previous_queue_name);

-- Who may answer a group (a row), and whether they are logged in / paused now.
CREATE TABLE answer_group_members (
    group_id            bigint NOT NULL REFERENCES answer_groups (id) ON DELETE CASCADE,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Ring order for the in-order strategy (lowest first).
    position            integer NOT NULL CHECK (position BETWEEN 1 AND 9999),
    -- May log colleagues in and out of this group and switch its night mode.
    group_admin         boolean NOT NULL DEFAULT false,
    logged_in           boolean NOT NULL DEFAULT false,
    paused              boolean NOT NULL DEFAULT false,
    pause_reason        text NOT NULL DEFAULT '' CHECK (length(pause_reason) <= 80),
    changed_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX answer_group_members_user_id ON answer_group_members (user_id);

-- A number points at a user or at a group, never both.
ALTER TABLE numbers ADD COLUMN group_id bigint REFERENCES answer_groups (id) ON DELETE SET NULL;
ALTER TABLE numbers ADD CONSTRAINT numbers_user_or_group CHECK (user_id IS NULL OR group_id IS NULL);
CREATE INDEX numbers_group_id ON numbers (group_id);

-- ---------------------------------------------------------------------------------------------
-- What app_queue reads (extconfig: queues, queue_members). Column names are queues.conf options
-- (underscores become dashes). Asterisk loads a queue and its members at each Queue() call and
-- again before each ring attempt, so a change here takes effect at once, without a reload.

-- Each group's queue names: the current generation and the one before (UNION ALL, so a lookup by
-- name uses the indexes on both columns).
CREATE VIEW answer_group_queue_names AS
    SELECT id, queue_name AS name, generation FROM answer_groups
    UNION ALL
    SELECT id, previous_queue_name, generation - 1 FROM answer_groups;

CREATE VIEW pbx_queues AS
    SELECT q.name,
           g.strategy,
           g.ring_time AS timeout,
           1 AS retry,
           'no' AS ringinuse,
           'yes' AS autofill,
           'paused,invalid,unavailable' AS joinempty,
           'paused,invalid,unavailable' AS leavewhenempty,
           'yes' AS setinterfacevar,
           'no' AS announce_holdtime,
           0 AS announce_frequency,
           0 AS periodic_announce_frequency,
           0 AS wrapuptime
      FROM answer_group_queue_names q
      JOIN answer_groups g ON g.id = q.id;

-- One member per logged-in user who has a device. The interface is a Local channel that rings all
-- the user's devices unless one of them is on a call ([pbx-group-member]). Its name starts with
-- the position: app_queue keeps an in-order queue's members in the order it first loads them, and
-- res_config_pgsql sorts by interface. A member whose activity is not Available (user_activities,
-- until NULL = until further notice) is paused, and unpaused when the activity ends, with no
-- writer: app_queue reloads the members before each ring attempt.
CREATE VIEW pbx_queue_members AS
    SELECT q.name AS queue_name,
           'Local/' || lpad(m.position::text, 4, '0') || '-' || m.user_id::text || '@pbx-group-member/n'
               AS interface,
           regexp_replace(u.name, '[[:cntrl:],|"]', '', 'g') AS membername,
           ''::text AS state_interface,
           g.id::text || '-' || m.user_id::text || '-' || q.generation::text AS uniqueid,
           CASE WHEN m.paused OR a.user_id IS NOT NULL THEN 1 ELSE 0 END AS paused,
           CASE WHEN m.paused THEN m.pause_reason
                WHEN a.user_id IS NOT NULL THEN 'activity:' || a.kind
                ELSE '' END AS reason_paused,
           0 AS penalty,
           'no' AS ringinuse,
           0 AS wrapuptime
      FROM answer_group_queue_names q
      JOIN answer_groups g ON g.id = q.id
      JOIN answer_group_members m ON m.group_id = g.id
      JOIN users u ON u.id = m.user_id
      LEFT JOIN user_activities a
             ON a.user_id = m.user_id AND a.kind <> 'available' AND (a.until IS NULL OR a.until > now())
     WHERE m.logged_in AND EXISTS (SELECT 1 FROM devices d WHERE d.user_id = m.user_id)
    -- app_queue probes the columns at load with a query over all rows, and only passes a pause's
    -- reason on when it saw a non-empty reason_paused: this row, in a queue no call can name, is always
    -- there.
    UNION ALL
    SELECT '', 'Local/0000-0@pbx-group-member/n', 'probe', '', 'probe', 0, 'probe', 0, 'no', 0;

-- A pause made in Asterisk (CLI `queue pause member`, AMI QueuePause) is written here by app_queue
-- (UPDATE ... WHERE uniqueid = ...): it lands on the member's row, so the database stays the truth.
CREATE FUNCTION pbx_queue_members_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parts text[] := string_to_array(OLD.uniqueid, '-');
BEGIN
    IF NEW.paused IS DISTINCT FROM OLD.paused OR NEW.reason_paused IS DISTINCT FROM OLD.reason_paused THEN
        UPDATE answer_group_members m
           SET paused = coalesce(NEW.paused, 0) <> 0,
               pause_reason = CASE WHEN coalesce(NEW.paused, 0) <> 0
                                   THEN left(regexp_replace(coalesce(NEW.reason_paused, ''), '[[:cntrl:]]', '', 'g'), 80)
                                   ELSE '' END,
               changed_at = now()
         WHERE m.group_id = parts[1]::bigint AND m.user_id = parts[2]::bigint;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER pbx_queue_members_update INSTEAD OF UPDATE ON pbx_queue_members
    FOR EACH ROW EXECUTE FUNCTION pbx_queue_members_update();

-- [pbx-group-member] rings a member's devices: REALTIME_FIELD(pbxuserdial,id,<user id>,dial).
CREATE VIEW pbx_user_dial AS
    SELECT u.id::text AS id,
           coalesce((SELECT string_agg('PJSIP/' || d.sip_username, '&' ORDER BY d.id)
                       FROM devices d WHERE d.user_id = u.id), '') AS dial
      FROM users u;
CREATE INDEX users_id_text ON users ((id::text));

-- The dialplan fallback (service down): a group's extension or DID rings its logged-in members'
-- devices at once (no queue, no overflow: the fallback only has to ring).
CREATE OR REPLACE VIEW pbx_dial_targets AS
    SELECT o.slug || '-' || u.extension AS id,
           string_agg('PJSIP/' || d.sip_username, '&' ORDER BY d.id) AS dial
      FROM users u
      JOIN organizations o ON o.id = u.organization_id
      JOIN devices d ON d.user_id = u.id
     GROUP BY o.slug, u.extension
    UNION ALL
    SELECT o.slug || '-' || g.extension,
           string_agg('PJSIP/' || d.sip_username, '&' ORDER BY d.id)
      FROM answer_groups g
      JOIN organizations o ON o.id = g.organization_id
      JOIN answer_group_members m ON m.group_id = g.id AND m.logged_in
      JOIN devices d ON d.user_id = m.user_id
     GROUP BY o.slug, g.extension;

CREATE OR REPLACE VIEW pbx_did_targets AS
    SELECT n.number AS id,
           o.slug AS organization,
           coalesce(
               (SELECT string_agg('PJSIP/' || d.sip_username, '&' ORDER BY d.id)
                  FROM devices d
                 WHERE d.user_id = n.user_id
                    OR d.user_id IN (SELECT gm.user_id FROM answer_group_members gm
                                      WHERE gm.group_id = n.group_id AND gm.logged_in)),
               '') AS dial
      FROM numbers n
      JOIN organizations o ON o.id = n.organization_id;

-- Pointing a number at a user (numbers API) takes it away from its group, and the other way round.
CREATE FUNCTION numbers_one_target() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        NEW.group_id := NULL;
    ELSIF NEW.group_id IS NOT NULL AND NEW.group_id IS DISTINCT FROM OLD.group_id THEN
        NEW.user_id := NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER numbers_one_target BEFORE UPDATE ON numbers
    FOR EACH ROW EXECUTE FUNCTION numbers_one_target();
