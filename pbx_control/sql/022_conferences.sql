-- Ad-hoc conferences (pbx_control/meetings/conferences.py): a two-party call with more people
-- added, or a multi-party call started from the app. The room is ConfBridge conference
-- c<id>; the row names its organization and its owner (the host), so another organization's id
-- is 404 and the owner's devices see the room's events. Rows are kept (they are small) so an id
-- is never reused.

CREATE TABLE conferences (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    owner_user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conferences_org ON conferences (organization_id);

-- The organization's limit of people in one ad-hoc conference (those in it and those ringing),
-- set by its admins; without a row the default of meetings/conferences.py applies.
CREATE TABLE conference_settings (
    organization_id     bigint PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    max_participants    integer NOT NULL CHECK (max_participants BETWEEN 2 AND 50)
);
