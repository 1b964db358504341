-- Each user's count of unseen missed calls (the app's badge, `unseen_missed` on every history
-- page), kept by statement triggers instead of counted on every read: counting read one index
-- entry per unseen call (about 20,000 for the bench's user of 100,000 rows, a few ms of
-- PostgreSQL's time on every page).
--
-- Statement triggers with transition tables: one upsert per user a statement touched (a retention
-- purge of thousands of rows, a "seen up to" of hundreds), applied in user order, so two
-- statements never take the same counters in opposite orders (no deadlock). A decrement only
-- updates: when a user is deleted their counter goes by cascade, and their rows' cascade delete
-- must not make it again.
CREATE TABLE history_unseen (
    user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    n       integer NOT NULL CHECK (n >= 0)
);

INSERT INTO history_unseen (user_id, n)
SELECT user_id, count(*) FROM call_history WHERE missed AND NOT seen GROUP BY user_id;

CREATE FUNCTION pbx_history_unseen_apply(p_delta jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- p_delta: [{"u": user_id, "d": change}], only non-zero changes
    INSERT INTO history_unseen AS c (user_id, n)
    SELECT (e->>'u')::bigint, (e->>'d')::integer
      FROM jsonb_array_elements(p_delta) e
     WHERE (e->>'d')::integer > 0
     ORDER BY (e->>'u')::bigint
    ON CONFLICT (user_id) DO UPDATE SET n = c.n + EXCLUDED.n;
    UPDATE history_unseen c SET n = greatest(0, c.n + x.d)
      FROM (SELECT (e->>'u')::bigint AS u, (e->>'d')::integer AS d
              FROM jsonb_array_elements(p_delta) e WHERE (e->>'d')::integer < 0
             ORDER BY 1) x
     WHERE c.user_id = x.u;
END $$;

CREATE FUNCTION pbx_history_unseen_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_history_unseen_apply(coalesce(jsonb_agg(jsonb_build_object('u', user_id, 'd', d)), '[]'))
       FROM (SELECT user_id, count(*)::integer AS d FROM new_rows WHERE missed AND NOT seen
              GROUP BY user_id) x;
    RETURN NULL;
END $$;

CREATE FUNCTION pbx_history_unseen_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_history_unseen_apply(coalesce(jsonb_agg(jsonb_build_object('u', user_id, 'd', -d)), '[]'))
       FROM (SELECT user_id, count(*)::integer AS d FROM old_rows WHERE missed AND NOT seen
              GROUP BY user_id) x;
    RETURN NULL;
END $$;

CREATE FUNCTION pbx_history_unseen_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_history_unseen_apply(coalesce(jsonb_agg(jsonb_build_object('u', u, 'd', d)), '[]'))
       FROM (SELECT u, sum(d)::integer AS d
               FROM (SELECT user_id AS u, count(*) AS d FROM new_rows WHERE missed AND NOT seen
                      GROUP BY user_id
                     UNION ALL
                     SELECT user_id, -count(*) FROM old_rows WHERE missed AND NOT seen
                      GROUP BY user_id) s
              GROUP BY u HAVING sum(d) <> 0) x;
    RETURN NULL;
END $$;

CREATE TRIGGER history_unseen_ins AFTER INSERT ON call_history
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pbx_history_unseen_ins();
CREATE TRIGGER history_unseen_del AFTER DELETE ON call_history
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pbx_history_unseen_del();
CREATE TRIGGER history_unseen_upd AFTER UPDATE ON call_history
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pbx_history_unseen_upd();

-- The projection (pbx_history_on_cel, SECURITY DEFINER) fires these as the owner; the service's
-- own updates (seen marks) and the purge fire them as the service's role, which may write every
-- table (runtime/db_roles.py).
