-- Meetings (pbx_control/meetings): rooms on Asterisk ConfBridge, joined by PIN. A deleted meeting
-- keeps its row (deleted_at) so that its PINs stay reserved and the dial-in can say it was deleted.
-- PINs are unique per organization across both columns (checked under a per-organization
-- advisory lock when a meeting is made, see meetings/repository.py); the dial-in looks a PIN up
-- only within the caller's own organization.

CREATE TABLE meetings (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    owner_user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    starts_at           timestamptz,
    ends_at             timestamptz,
    pin                 text NOT NULL CHECK (pin ~ '^[0-9]{6,12}$'),
    host_pin            text NOT NULL CHECK (host_pin ~ '^[0-9]{6,12}$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CHECK (pin <> host_pin),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
CREATE UNIQUE INDEX meetings_org_pin ON meetings (organization_id, pin);
CREATE UNIQUE INDEX meetings_org_host_pin ON meetings (organization_id, host_pin);
CREATE INDEX meetings_owner ON meetings (owner_user_id);

-- The organization's outside dial-in number for meetings (one of its own numbers), if any.
CREATE TABLE meeting_dial_in (
    organization_id     bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    number_id           bigint NOT NULL UNIQUE REFERENCES numbers (id) ON DELETE CASCADE
);
