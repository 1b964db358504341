-- What the dialplan's fallback for calls from the carrier reads (REALTIME_FIELD), so that a
-- blocked caller stays blocked when the control service does not route the call: the rule of
-- pbx_control/reachability/decision.py (a number in the callee's blocked callers, or no number
-- while the callee refuses anonymous callers), in two indexed lookups.

-- Who one of our numbers rings, and whether they refuse anonymous callers.
CREATE VIEW pbx_did_callees AS
    SELECT n.number AS id,
           n.user_id::text AS user_id,
           CASE WHEN u.block_anonymous THEN '1' ELSE '0' END AS block_anonymous
      FROM numbers n
      JOIN users u ON u.id = n.user_id;

-- A number a user blocked, as '<user id>/<E.164 or extension>'.
CREATE VIEW pbx_blocked_callers AS
    SELECT cl.user_id::text || '/' || cl.number AS id, cl.kind
      FROM caller_lists cl
     WHERE cl.kind = 'blocked';
CREATE INDEX caller_lists_blocked_key ON caller_lists ((user_id::text || '/' || number))
    WHERE kind = 'blocked';
