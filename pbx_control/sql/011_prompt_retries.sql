-- The prompt worker backs off from announcements it failed to make (espeak-ng failing on a text,
-- a full disk): prompt_attempts failures so far, prompt_next_try when it may try again (NULL: at
-- once). It takes never-tried ones first, so a few that keep failing never hold up newer ones.
ALTER TABLE user_activities
    ADD COLUMN prompt_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN prompt_next_try timestamptz;

-- A new sentence is tried at once: an activity set again (set_at changes), a user renamed or
-- speaking another language.
CREATE FUNCTION pbx_prompt_retry_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.prompt_attempts := 0;
    NEW.prompt_next_try := NULL;
    RETURN NEW;
END $$;
CREATE TRIGGER user_activities_prompt_retry BEFORE UPDATE ON user_activities
    FOR EACH ROW WHEN (NEW.set_at IS DISTINCT FROM OLD.set_at)
    EXECUTE FUNCTION pbx_prompt_retry_reset();

CREATE FUNCTION pbx_prompt_retry_reset_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_activities SET prompt_attempts = 0, prompt_next_try = NULL
     WHERE user_id = NEW.id AND prompt_next_try IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER users_prompt_retry AFTER UPDATE OF name, language ON users
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.language IS DISTINCT FROM NEW.language)
    EXECUTE FUNCTION pbx_prompt_retry_reset_user();
