-- Numbers are the platform's to give (issue 13, item 4). The platform admin assigns a number to an
-- organization, or gives it a range; an organization's admin adds numbers (DIDs, group numbers)
-- only from its own ranges (tenancy/number_ranges.py). Here PostgreSQL keeps the ranges apart:
-- no two organizations' ranges overlap, no range holds another organization's number, and no
-- number goes to an organization other than the one whose range holds it. One advisory lock
-- serializes the three checks. Numbers compare as E.164 text of the same length, in "C" order.

CREATE TABLE number_ranges (
    id                  bigserial PRIMARY KEY,
    organization_id     bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    first_number        text NOT NULL CHECK (first_number ~ '^\+[1-9][0-9]{5,14}$'),
    last_number         text NOT NULL CHECK (last_number ~ '^\+[1-9][0-9]{5,14}$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (length(first_number) = length(last_number)),
    CHECK (first_number COLLATE "C" <= last_number COLLATE "C")
);
CREATE INDEX number_ranges_organization_id ON number_ranges (organization_id);

CREATE FUNCTION pbx_range_holds(r number_ranges, n text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT length(n) = length(r.first_number)
       AND n COLLATE "C" >= r.first_number COLLATE "C" AND n COLLATE "C" <= r.last_number COLLATE "C";
$$;

CREATE FUNCTION pbx_lock_number_ranges() RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('pbx-number-ranges', 0));
$$;

CREATE FUNCTION pbx_number_in_own_range() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_lock_number_ranges();
    IF EXISTS (SELECT 1 FROM number_ranges r
                WHERE r.organization_id <> NEW.organization_id AND pbx_range_holds(r, NEW.number)) THEN
        RAISE EXCEPTION 'number % is in another organization''s range', NEW.number
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'number_in_other_range';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION pbx_range_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_lock_number_ranges();
    IF EXISTS (SELECT 1 FROM number_ranges r
                WHERE r.organization_id <> NEW.organization_id AND r.id <> NEW.id
                  AND length(r.first_number) = length(NEW.first_number)
                  AND r.first_number COLLATE "C" <= NEW.last_number COLLATE "C"
                  AND NEW.first_number COLLATE "C" <= r.last_number COLLATE "C") THEN
        RAISE EXCEPTION 'range overlaps another organization''s range'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'range_overlaps_other';
    END IF;
    IF EXISTS (SELECT 1 FROM numbers n
                WHERE n.organization_id <> NEW.organization_id AND pbx_range_holds(NEW, n.number)) THEN
        RAISE EXCEPTION 'range holds another organization''s number'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'range_holds_other_number';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER numbers_in_own_range BEFORE INSERT OR UPDATE OF number, organization_id ON numbers
    FOR EACH ROW EXECUTE FUNCTION pbx_number_in_own_range();
CREATE TRIGGER number_ranges_free BEFORE INSERT OR UPDATE ON number_ranges
    FOR EACH ROW EXECUTE FUNCTION pbx_range_free();
