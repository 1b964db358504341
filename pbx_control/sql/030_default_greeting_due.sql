-- Which users' default greeting may need making (voicemail/workers.DefaultGreetings). Without it
-- the worker compared every user's name|language|box with what their box's greeting was made for,
-- a scan of all users joined to organizations and boxes every 2 s that no index can serve (90 ms of
-- both cores at 100,000 users, for ever). Now it reads the due rows through a partial index; what
-- can change a greeting's words marks its users due again, and the worker clears the mark only
-- while the words it made are still the user's.
ALTER TABLE users ADD COLUMN default_greeting_due boolean NOT NULL DEFAULT true;
CREATE INDEX users_default_greeting_due ON users (id) WHERE default_greeting_due AND extension IS NOT NULL;

CREATE FUNCTION pbx_greeting_due_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.language IS DISTINCT FROM OLD.language
       OR NEW.extension IS DISTINCT FROM OLD.extension THEN
        NEW.default_greeting_due := true;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER greeting_due_on_user_change BEFORE UPDATE OF name, language, extension ON users
    FOR EACH ROW EXECUTE FUNCTION pbx_greeting_due_user();

CREATE FUNCTION pbx_greeting_due_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET default_greeting_due = true WHERE organization_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER greeting_due_on_org_slug AFTER UPDATE OF slug ON organizations
    FOR EACH ROW WHEN (NEW.slug IS DISTINCT FROM OLD.slug) EXECUTE FUNCTION pbx_greeting_due_org();

-- A box whose greeting is to be written again (its own greeting deleted, a purge for a new owner).
CREATE FUNCTION pbx_greeting_due_box() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET default_greeting_due = true WHERE id = NEW.user_id;
    RETURN NULL;
END $$;
CREATE TRIGGER greeting_due_on_box_reset AFTER UPDATE OF default_greeting_for ON voicemail_boxes
    FOR EACH ROW WHEN (NEW.default_greeting_for IS NULL) EXECUTE FUNCTION pbx_greeting_due_box();
