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
