-- Call history (pbx_control/history). Asterisk writes channel events itself (cel_pgsql into `cel`,
-- asterisk-config/cel.conf and cel_pgsql.conf), so calls are recorded while the control service is
-- down. When the last channel of a call is gone (LINKEDID_END), a trigger projects the call's events
-- into one `call_history` row per user who took part: the caller (out), each user whose devices rang
-- and the user the call was for (in). The API reads `call_history` only, on its indexes.

-- The columns cel_pgsql fills (it reads this table's columns at load and writes those it knows, by
-- name; any other column gets its DEFAULT). eventtime is UTC (usegmtime = yes in cel_pgsql.conf).
CREATE TABLE cel (
    id              bigserial PRIMARY KEY,
    eventtype       text NOT NULL,
    eventtime       timestamp NOT NULL,
    userdeftype     text NOT NULL DEFAULT '',
    cid_name        text NOT NULL DEFAULT '',
    cid_num         text NOT NULL DEFAULT '',
    cid_ani         text NOT NULL DEFAULT '',
    cid_rdnis       text NOT NULL DEFAULT '',
    cid_dnid        text NOT NULL DEFAULT '',
    exten           text NOT NULL DEFAULT '',
    context         text NOT NULL DEFAULT '',
    channame        text NOT NULL DEFAULT '',
    appname         text NOT NULL DEFAULT '',
    appdata         text NOT NULL DEFAULT '',
    amaflags        integer NOT NULL DEFAULT 0,
    accountcode     text NOT NULL DEFAULT '',
    peeraccount     text NOT NULL DEFAULT '',
    uniqueid        text NOT NULL DEFAULT '',
    linkedid        text NOT NULL DEFAULT '',
    userfield       text NOT NULL DEFAULT '',
    peer            text NOT NULL DEFAULT '',
    extra           text NOT NULL DEFAULT ''
);
CREATE INDEX cel_linkedid ON cel (linkedid);
CREATE INDEX cel_eventtime ON cel (eventtime);

CREATE TABLE call_history (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    linkedid            text NOT NULL,
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    -- out: answered | voicemail | not_answered
    -- in:  answered | answered_elsewhere (a colleague took the group call) | voicemail
    --      | diverted (the call was for me, went elsewhere: activity, closed phone, forward) | missed
    result              text NOT NULL,
    missed              boolean NOT NULL,
    voicemail           boolean NOT NULL,
    started_at          timestamptz NOT NULL,
    answered_at         timestamptz,
    ended_at            timestamptz,
    duration_s          integer NOT NULL DEFAULT 0,
    -- the other party as Asterisk saw it: the number dialled (out) or the caller's (in)
    peer_number         text NOT NULL DEFAULT '',
    peer_name           text NOT NULL DEFAULT '',
    -- my device: the one that placed or answered the call (none for a missed call)
    device_id           bigint REFERENCES devices (id) ON DELETE SET NULL,
    device_endpoint     text,
    hangup_cause        integer,
    -- a missed call is unseen until the user marks it seen; any other call is seen
    seen                boolean NOT NULL,
    UNIQUE (linkedid, user_id, direction)
);
-- The history query: one user, newest first, keyset paging on (started_at, id).
CREATE INDEX call_history_user ON call_history (user_id, started_at DESC, id DESC);
CREATE INDEX call_history_user_missed ON call_history (user_id, started_at DESC, id DESC) WHERE missed;
CREATE INDEX call_history_user_voicemail ON call_history (user_id, started_at DESC, id DESC) WHERE voicemail;
CREATE INDEX call_history_user_unseen ON call_history (user_id) WHERE missed AND NOT seen;
CREATE INDEX call_history_org ON call_history (organization_id, started_at DESC, id DESC);
CREATE INDEX call_history_started_at ON call_history (started_at);

-- How one user's part in a call ended; pbx_control/history/outcome.py is the same table in Python
-- (tests/integration/test_history_queries.py checks that both agree).
CREATE FUNCTION pbx_history_outcome(
    direction text, answered_mine boolean, answered_other boolean, voicemail_mine boolean,
    call_was_for_me boolean
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN direction = 'out' THEN
            CASE WHEN answered_other THEN 'answered'
                 WHEN voicemail_mine THEN 'voicemail'
                 ELSE 'not_answered' END
        WHEN answered_mine THEN 'answered'
        WHEN voicemail_mine THEN 'voicemail'
        WHEN answered_other AND call_was_for_me THEN 'diverted'
        WHEN answered_other THEN 'answered_elsewhere'
        ELSE 'missed' END
$$;

CREATE FUNCTION pbx_history_missed(direction text, result text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT direction = 'in' AND result IN ('missed', 'voicemail', 'diverted')
$$;

-- One call (all CEL rows of a linkedid) into call_history. Idempotent: run again, same rows (a
-- row's `seen` is kept).
CREATE FUNCTION pbx_history_project(p_linkedid text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    WITH ev AS (
        SELECT * FROM cel WHERE linkedid = p_linkedid
    ),
    chan AS (  -- one row per channel of the call
        SELECT c.uniqueid,
               min(c.channame) AS channame,
               min(c.eventtime) FILTER (WHERE c.eventtype = 'CHAN_START') AS started,
               min(c.eventtime) FILTER (WHERE c.eventtype = 'ANSWER') AS answered,
               max(c.eventtime) FILTER (WHERE c.eventtype IN ('HANGUP', 'CHAN_END')) AS ended,
               (array_agg(c.extra ORDER BY c.id) FILTER (WHERE c.eventtype = 'HANGUP'))[1] AS hangup_extra,
               (array_agg(c.cid_num ORDER BY c.id) FILTER (WHERE c.eventtype = 'CHAN_START'))[1] AS cid_num,
               (array_agg(c.cid_name ORDER BY c.id) FILTER (WHERE c.eventtype = 'CHAN_START'))[1] AS cid_name,
               (array_agg(coalesce(nullif(c.cid_dnid, ''), c.exten) ORDER BY c.id)
                    FILTER (WHERE c.eventtype = 'CHAN_START'))[1] AS dialled
          FROM ev c
         GROUP BY c.uniqueid
    ),
    dev AS (  -- channels on our devices (PJSIP/<sip username>-<sequence>)
        SELECT ch.*, d.id AS device_id, d.user_id, d.organization_id, d.sip_username,
               ch.uniqueid = p_linkedid AS is_origin
          FROM chan ch
          JOIN devices d ON d.sip_username = substring(ch.channame FROM '^PJSIP/(.+)-[0-9a-f]+$')
    ),
    origin AS (
        SELECT ch.*,
               substring(ch.channame FROM '^PJSIP/(trunk_.+)-[0-9a-f]+$') AS trunk,
               (SELECT d.user_id FROM dev d WHERE d.is_origin) AS user_id,
               (SELECT d.organization_id FROM dev d WHERE d.is_origin) AS organization_id,
               (SELECT d.device_id FROM dev d WHERE d.is_origin) AS device_id,
               (SELECT d.sip_username FROM dev d WHERE d.is_origin) AS sip_username
          FROM chan ch WHERE ch.uniqueid = p_linkedid
    ),
    -- a party answered: a channel other than the caller's, not a Local (queue member) channel
    party_answer AS (
        SELECT min(ch.answered) AS at FROM chan ch
         WHERE ch.uniqueid <> p_linkedid AND ch.answered IS NOT NULL AND ch.channame NOT LIKE 'Local/%'
    ),
    vm AS (  -- VoiceMail(<extension>@<organization slug>,...): whose box, since when
        SELECT u.id AS user_id, min(e.eventtime) AS at
          FROM ev e
          JOIN organizations o ON o.slug = split_part(split_part(e.appdata, ',', 1), '@', 2)
          JOIN users u ON u.organization_id = o.id
                      AND u.extension = split_part(split_part(e.appdata, ',', 1), '@', 1)
         WHERE e.eventtype = 'APP_START' AND lower(e.appname) = 'voicemail'
         GROUP BY u.id
    ),
    target AS (  -- the user the call was for: the extension dialled (device) or the DID (carrier)
        SELECT u.id AS user_id
          FROM origin o JOIN users u
            ON o.organization_id IS NOT NULL AND u.organization_id = o.organization_id AND u.extension = o.dialled
        UNION
        SELECT n.user_id
          FROM origin o JOIN numbers n
            ON o.trunk IS NOT NULL AND n.user_id IS NOT NULL
           AND n.number = CASE WHEN o.dialled LIKE '+%' THEN o.dialled ELSE '+' || o.dialled END
    ),
    callee AS (  -- every user on the receiving side
        SELECT d.user_id FROM dev d WHERE NOT d.is_origin
        UNION SELECT user_id FROM target
        UNION SELECT user_id FROM vm
    ),
    rows_out AS (
        SELECT o.organization_id, o.user_id, 'out'::text AS direction,
               (SELECT at FROM party_answer) IS NOT NULL AS answered_other,
               false AS answered_mine,
               EXISTS (SELECT 1 FROM vm) AS voicemail_mine,
               false AS for_me,
               o.started, o.ended,
               (SELECT at FROM party_answer) AS answered_at,
               (SELECT min(at) FROM vm) AS vm_at,
               o.dialled AS peer_number, ''::text AS peer_name,
               o.device_id, o.sip_username, o.hangup_extra
          FROM origin o WHERE o.user_id IS NOT NULL
    ),
    rows_in AS (
        SELECT u.organization_id, u.id AS user_id, 'in'::text AS direction,
               EXISTS (SELECT 1 FROM chan ch
                        WHERE ch.uniqueid <> p_linkedid AND ch.answered IS NOT NULL
                          AND ch.channame NOT LIKE 'Local/%'
                          AND ch.uniqueid NOT IN (SELECT d.uniqueid FROM dev d WHERE d.user_id = u.id))
                   AS answered_other,
               mine.uniqueid IS NOT NULL AS answered_mine,
               EXISTS (SELECT 1 FROM vm WHERE vm.user_id = u.id) AS voicemail_mine,
               EXISTS (SELECT 1 FROM target t WHERE t.user_id = u.id) AS for_me,
               o.started,
               coalesce(mine.ended, o.ended) AS ended,
               mine.answered AS answered_at,
               (SELECT vm.at FROM vm WHERE vm.user_id = u.id) AS vm_at,
               coalesce(o.cid_num, '') AS peer_number, coalesce(o.cid_name, '') AS peer_name,
               mine.device_id, mine.sip_username, o.hangup_extra
          FROM callee c
          JOIN users u ON u.id = c.user_id
          CROSS JOIN origin o
          LEFT JOIN LATERAL (
              SELECT d.* FROM dev d
               WHERE d.user_id = u.id AND NOT d.is_origin AND d.answered IS NOT NULL
               ORDER BY d.answered LIMIT 1) mine ON true
         WHERE u.id IS DISTINCT FROM o.user_id OR o.user_id IS NULL
    ),
    all_rows AS (
        SELECT r.*, pbx_history_outcome(r.direction, r.answered_mine, r.answered_other,
                                        r.voicemail_mine, r.for_me) AS result
          FROM (SELECT * FROM rows_out UNION ALL SELECT * FROM rows_in) r
    )
    INSERT INTO call_history AS h (
        organization_id, user_id, linkedid, direction, result, missed, voicemail, started_at,
        answered_at, ended_at, duration_s, peer_number, peer_name, device_id, device_endpoint,
        hangup_cause, seen)
    SELECT r.organization_id, r.user_id, p_linkedid, r.direction, r.result,
           pbx_history_missed(r.direction, r.result), r.result = 'voicemail',
           r.started AT TIME ZONE 'UTC',
           CASE WHEN r.result = 'answered' THEN r.answered_at AT TIME ZONE 'UTC' END,
           r.ended AT TIME ZONE 'UTC',
           greatest(0, coalesce(extract(epoch FROM r.ended - CASE r.result WHEN 'answered' THEN r.answered_at
                                                                        WHEN 'voicemail' THEN r.vm_at END),
                                0))::integer,
           left(r.peer_number, 80), left(r.peer_name, 200),
           CASE WHEN r.direction = 'out' OR r.result = 'answered' THEN r.device_id END,
           CASE WHEN r.direction = 'out' OR r.result = 'answered' THEN r.sip_username END,
           CASE WHEN r.hangup_extra ~ '"hangupcause":\s*[0-9]+'
                THEN substring(r.hangup_extra FROM '"hangupcause":\s*([0-9]+)')::integer END,
           NOT pbx_history_missed(r.direction, r.result)
      FROM all_rows r
     WHERE r.started IS NOT NULL
    ON CONFLICT (linkedid, user_id, direction) DO UPDATE
       SET result = EXCLUDED.result, missed = EXCLUDED.missed, voicemail = EXCLUDED.voicemail,
           started_at = EXCLUDED.started_at, answered_at = EXCLUDED.answered_at,
           ended_at = EXCLUDED.ended_at, duration_s = EXCLUDED.duration_s,
           peer_number = EXCLUDED.peer_number, peer_name = EXCLUDED.peer_name,
           device_id = EXCLUDED.device_id, device_endpoint = EXCLUDED.device_endpoint,
           hangup_cause = EXCLUDED.hangup_cause,
           seen = h.seen OR EXCLUDED.seen;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify('pbx_history', p_linkedid);
    END IF;
    RETURN n;
END $$;

-- A failure to project never loses Asterisk's row (cel_pgsql would drop it): warn and go on; the
-- call can be projected again later with pbx_history_project(linkedid).
CREATE FUNCTION pbx_history_on_cel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM pbx_history_project(NEW.linkedid);
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'call history: linkedid %: %', NEW.linkedid, SQLERRM;
    END;
    RETURN NULL;
END $$;

CREATE TRIGGER pbx_history_on_cel AFTER INSERT ON cel
    FOR EACH ROW WHEN (NEW.eventtype = 'LINKEDID_END') EXECUTE FUNCTION pbx_history_on_cel();
