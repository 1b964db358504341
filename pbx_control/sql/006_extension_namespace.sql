-- One extension namespace per organization: a user and an answer group never share an extension
-- (the route handler asks users first, so a user would silently hide the group). Enforced here,
-- under the same lock for both tables, so neither API can race the other.

CREATE FUNCTION pbx_extension_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.extension IS NULL THEN
        RETURN NEW;
    END IF;
    -- Serialize extension changes per organization across both tables.
    PERFORM pg_advisory_xact_lock(hashtextextended('pbx-extension:' || NEW.organization_id::text, 0));
    IF TG_TABLE_NAME = 'users' AND EXISTS (
        SELECT 1 FROM answer_groups g WHERE g.organization_id = NEW.organization_id AND g.extension = NEW.extension
    ) THEN
        RAISE EXCEPTION 'extension % is an answer group''s', NEW.extension
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'extension_used_by_group';
    END IF;
    IF TG_TABLE_NAME = 'answer_groups' AND EXISTS (
        SELECT 1 FROM users u WHERE u.organization_id = NEW.organization_id AND u.extension = NEW.extension
    ) THEN
        RAISE EXCEPTION 'extension % is a user''s', NEW.extension
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'extension_used_by_user';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER users_extension_free BEFORE INSERT OR UPDATE OF extension ON users
    FOR EACH ROW EXECUTE FUNCTION pbx_extension_free();
CREATE TRIGGER answer_groups_extension_free BEFORE INSERT OR UPDATE OF extension ON answer_groups
    FOR EACH ROW EXECUTE FUNCTION pbx_extension_free();
