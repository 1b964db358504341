-- Foundation: tenants, users, devices (SIP accounts), numbers, trunks, API tokens.
-- PostgreSQL is the truth; Asterisk reads SIP accounts live through the ps_* views at the end.

CREATE TABLE organizations (
    id              bigserial PRIMARY KEY,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9]{1,23}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    main_number     text CHECK (main_number ~ '^\+[1-9][0-9]{5,14}$'),
    timezone        text NOT NULL DEFAULT 'Europe/Stockholm',
    -- {"mon": ["08:00", "17:00"], ...}; a missing day is closed.
    working_hours   jsonb NOT NULL DEFAULT
        '{"mon":["08:00","17:00"],"tue":["08:00","17:00"],"wed":["08:00","17:00"],"thu":["08:00","17:00"],"fri":["08:00","17:00"]}',
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    -- NULL only for platform admins, who belong to no organization.
    organization_id     bigint REFERENCES organizations (id) ON DELETE CASCADE,
    extension           text CHECK (extension ~ '^[1-9][0-9]{1,7}$'),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    username            text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@+-]{1,99}$'),
    email               text,
    password_hash       text NOT NULL,
    role                text NOT NULL CHECK (role IN ('user', 'operator', 'admin', 'platform')),
    language            text NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en')),
    ring_time           integer NOT NULL DEFAULT 30 CHECK (ring_time BETWEEN 5 AND 300),
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, extension),
    CHECK ((role = 'platform') = (organization_id IS NULL)),
    CHECK (role = 'platform' OR extension IS NOT NULL)
);

CREATE TABLE devices (
    id                  bigserial PRIMARY KEY,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind                text NOT NULL CHECK (kind IN ('desk', 'mobile', 'desktop', 'web')),
    label               text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    -- Globally unique: it is the PJSIP endpoint, aor and auth name, and the SIP username.
    sip_username        text NOT NULL UNIQUE CHECK (sip_username ~ '^[a-z][a-z0-9_]{2,63}$'),
    -- md5(sip_username || ':' || realm || ':' || password); the password itself is never stored.
    sip_md5_cred        text NOT NULL CHECK (sip_md5_cred ~ '^[0-9a-f]{32}$'),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user_id ON devices (user_id);

CREATE TABLE trunks (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_]{1,30}$'),
    host            text NOT NULL CHECK (host ~ '^[A-Za-z0-9.:-]+$'),
    port            integer NOT NULL DEFAULT 5060 CHECK (port BETWEEN 1 AND 65535),
    -- Where the carrier's INVITEs come from (address or CIDR).
    match           text NOT NULL CHECK (match ~ '^[0-9A-Fa-f.:/]+$'),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- External numbers (DIDs), E.164; each points at a user (groups come later).
CREATE TABLE numbers (
    id                  bigserial PRIMARY KEY,
    number              text NOT NULL UNIQUE CHECK (number ~ '^\+[1-9][0-9]{5,14}$'),
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id             bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX numbers_user_id ON numbers (user_id);

CREATE TABLE api_tokens (
    token_sha256    bytea PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- ---------------------------------------------------------------------------------------------
-- What Asterisk reads (res_config_pgsql + sorcery realtime). Views, so a device added through
-- the API is a registrable endpoint at once. Column names are PJSIP option names.
-- The realm must match pbx_control.tenancy.devices.SIP_REALM.

CREATE VIEW ps_endpoints AS
    SELECT d.sip_username AS id,
           'transport-udp' AS transport,
           d.sip_username AS aors,
           d.sip_username AS auth,
           'org-' || o.slug AS context,
           o.slug AS accountcode,
           'all' AS disallow,
           'ulaw,alaw,gsm' AS allow,
           'no' AS direct_media,
           'yes' AS rtp_symmetric,
           'yes' AS force_rport,
           'yes' AS rewrite_contact,
           'rfc4733' AS dtmf_mode,
           -- Quotes, angle brackets, backslashes and control characters never reach a SIP header.
           '"' || regexp_replace(u.name, '[[:cntrl:]"<>\\]', '', 'g') || '" <' || u.extension || '>' AS callerid,
           'yes' AS send_pai
      FROM devices d
      JOIN users u ON u.id = d.user_id
      JOIN organizations o ON o.id = d.organization_id
    UNION ALL
    SELECT 'trunk_' || t.name, 'transport-udp', 'trunk_' || t.name, NULL, 'pbx-from-trunk', NULL,
           'all', 'ulaw,alaw', 'no', 'yes', 'yes', 'no', 'rfc4733', NULL, 'yes'
      FROM trunks t;

CREATE VIEW ps_auths AS
    SELECT d.sip_username AS id,
           'md5' AS auth_type,
           d.sip_username AS username,
           d.sip_md5_cred AS md5_cred,
           'pbx-control' AS realm
      FROM devices d;

CREATE VIEW ps_aors AS
    SELECT d.sip_username AS id,
           5 AS max_contacts,
           'yes' AS remove_existing,
           NULL::text AS contact,
           0 AS qualify_frequency
      FROM devices d
    UNION ALL
    SELECT 'trunk_' || t.name, 0, 'no', 'sip:' || t.host || ':' || t.port, 0
      FROM trunks t;

CREATE VIEW ps_endpoint_id_ips AS
    SELECT 'trunk_' || t.name AS id, 'trunk_' || t.name AS endpoint, t.match AS match
      FROM trunks t;

-- Read by the dialplan's fallback (REALTIME_FIELD) when the control service does not answer:
-- the dialled user's devices, and the organization's way out.
CREATE VIEW pbx_dial_targets AS
    SELECT o.slug || '-' || u.extension AS id,
           string_agg('PJSIP/' || d.sip_username, '&' ORDER BY d.id) AS dial
      FROM users u
      JOIN organizations o ON o.id = u.organization_id
      JOIN devices d ON d.user_id = u.id
     GROUP BY o.slug, u.extension;

CREATE VIEW pbx_org_outbound AS
    SELECT o.slug AS id,
           coalesce(o.main_number, '') AS callerid,
           (SELECT 'trunk_' || t.name FROM trunks t ORDER BY t.id LIMIT 1) AS trunk
      FROM organizations o;

CREATE VIEW pbx_did_targets AS
    SELECT n.number AS id,
           o.slug AS organization,
           coalesce(string_agg('PJSIP/' || d.sip_username, '&' ORDER BY d.id), '') AS dial
      FROM numbers n
      JOIN organizations o ON o.id = n.organization_id
      LEFT JOIN devices d ON d.user_id = n.user_id
     GROUP BY n.number, o.slug;
