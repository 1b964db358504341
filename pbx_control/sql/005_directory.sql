-- Directory: the organization's shared phonebook, each user's personal phonebook, and per-user
-- marks on contacts (favorite, VIP, blocked) and on colleagues (favorite). The directory itself
-- (users, later groups) is read from their own tables; see pbx_control/directory/search.py.
--
-- VIP and blocked marks are projected into caller_lists (002) by pbx_control.directory.marks, one
-- row per contact number with contact_id set, so the routing decision reads one indexed table.

-- Alphabetical order and case folding: Swedish (å ä ö after z) when PostgreSQL has ICU, else the
-- machine's Swedish or C.UTF-8 locale (still Unicode-aware lower()), else code point order.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'sv-SE-x-icu') THEN
        CREATE COLLATION directory_sort FROM "sv-SE-x-icu";
    ELSIF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'sv_SE.utf8') THEN
        CREATE COLLATION directory_sort FROM "sv_SE.utf8";
    ELSIF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'C.utf8') THEN
        CREATE COLLATION directory_sort FROM "C.utf8";
    ELSE
        CREATE COLLATION directory_sort FROM "C";
    END IF;
END
$$;

-- ' anna svensson acme ab ': lower case, words separated by single spaces, a space at both ends,
-- so "a word starts with w" is `LIKE '% w%'` (pbx_control.directory.text folds queries the same way).
CREATE FUNCTION directory_words(VARIADIC parts text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ' ' || btrim(regexp_replace(lower(array_to_string(parts, ' ') COLLATE directory_sort),
                                              '[^[:alnum:]]+', ' ', 'g')) || ' ' $$;

CREATE TABLE contacts (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- NULL: the organization's shared phonebook; else that user's personal phonebook.
    owner_user_id       bigint REFERENCES users (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    company             text CHECK (length(company) BETWEEN 1 AND 200),
    email               text CHECK (length(email) BETWEEN 3 AND 254),
    note                text CHECK (length(note) BETWEEN 1 AND 2000),
    search_words        text GENERATED ALWAYS AS (directory_words(name, company)) STORED,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- A name search reads one book (organization, owner) through this index and filters search_words:
-- about 7 ms for 30,000 contacts. (A pg_trgm GIN index was tried: the planner never chose it for
-- word-prefix patterns on names, so it only slowed imports down.)
CREATE INDEX contacts_book ON contacts (organization_id, owner_user_id, name COLLATE directory_sort);
CREATE INDEX contacts_owner ON contacts (owner_user_id) WHERE owner_user_id IS NOT NULL;

CREATE TABLE contact_numbers (
    id                  bigserial PRIMARY KEY,
    contact_id          bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    -- Copied from the contact (which never moves), so lookups filter without a join.
    organization_id     bigint NOT NULL,
    owner_user_id       bigint,
    position            smallint NOT NULL CHECK (position BETWEEN 0 AND 19),
    -- E.164 or an internal extension, as in caller_lists.
    number              text NOT NULL CHECK (number ~ '^(\+[1-9][0-9]{5,14}|[1-9][0-9]{1,7})$'),
    label               text NOT NULL DEFAULT '' CHECK (length(label) <= 40),
    UNIQUE (contact_id, number)
);
-- Serves both the exact caller name lookup (=) and number prefix search (LIKE '+4670%').
CREATE INDEX contact_numbers_lookup ON contact_numbers (organization_id, number text_pattern_ops);

CREATE TABLE contact_marks (
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_id          bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    favorite            boolean NOT NULL DEFAULT false,
    vip                 boolean NOT NULL DEFAULT false,
    blocked             boolean NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, contact_id),
    CHECK (NOT (vip AND blocked))
);
CREATE INDEX contact_marks_contact ON contact_marks (contact_id);

-- Starred colleagues and answer groups ("favoritmarkera kontakter eller svarsgrupper").
CREATE TABLE favorite_colleagues (
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    colleague_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, colleague_id),
    CHECK (user_id <> colleague_id)
);
CREATE INDEX favorite_colleagues_colleague ON favorite_colleagues (colleague_id);

CREATE TABLE favorite_groups (
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id            bigint NOT NULL REFERENCES answer_groups (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX favorite_groups_group ON favorite_groups (group_id);

-- caller_lists rows that came from a contact are found by it when the contact changes.
CREATE INDEX caller_lists_contact ON caller_lists (contact_id) WHERE contact_id IS NOT NULL;

-- Presence (GET /presence) keeps each organization's users, activities and devices in memory and
-- re-reads them only when this version has moved: one primary-key lookup per request instead of
-- the whole organization. Bumped by triggers on whatever presence shows; no foreign key, so the
-- triggers run even while an organization is being deleted (a stale row is harmless).
CREATE TABLE presence_versions (
    organization_id     bigint PRIMARY KEY,
    version             bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION presence_bump() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    org bigint;
    uid bigint;
BEGIN
    IF TG_TABLE_NAME IN ('users', 'devices') THEN
        org := CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;
    ELSE
        uid := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
        SELECT organization_id INTO org FROM users WHERE id = uid;
    END IF;
    IF org IS NOT NULL THEN
        INSERT INTO presence_versions (organization_id, version) VALUES (org, 1)
            ON CONFLICT (organization_id) DO UPDATE SET version = presence_versions.version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER presence_users AFTER INSERT OR DELETE OR UPDATE OF name, extension ON users
    FOR EACH ROW EXECUTE FUNCTION presence_bump();
CREATE TRIGGER presence_devices AFTER INSERT OR DELETE OR UPDATE ON devices
    FOR EACH ROW EXECUTE FUNCTION presence_bump();
CREATE TRIGGER presence_activities AFTER INSERT OR DELETE OR UPDATE ON user_activities
    FOR EACH ROW EXECUTE FUNCTION presence_bump();
CREATE TRIGGER presence_custom_activities AFTER DELETE OR UPDATE OF label ON custom_activities
    FOR EACH ROW EXECUTE FUNCTION presence_bump();
