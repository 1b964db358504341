-- Live presence and answer-group changes for the events WebSocket (pbx_control/events/live.py):
-- whatever bumps an organization's presence version, and every change of an answer group or of
-- its members, also sends NOTIFY pbx_live '<presence|groups>:<organization id>'. PostgreSQL sends a
-- notification at commit and folds identical ones of one transaction into one.

CREATE OR REPLACE FUNCTION presence_bump() RETURNS trigger
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
        PERFORM pg_notify('pbx_live', 'presence:' || org::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION groups_live_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    org bigint;
    gid bigint;
BEGIN
    IF TG_TABLE_NAME = 'answer_groups' THEN
        org := CASE WHEN TG_OP = 'DELETE' THEN OLD.organization_id ELSE NEW.organization_id END;
    ELSE
        gid := CASE WHEN TG_OP = 'DELETE' THEN OLD.group_id ELSE NEW.group_id END;
        SELECT organization_id INTO org FROM answer_groups WHERE id = gid;
    END IF;
    IF org IS NOT NULL THEN
        PERFORM pg_notify('pbx_live', 'groups:' || org::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER groups_live AFTER INSERT OR DELETE OR UPDATE ON answer_groups
    FOR EACH ROW EXECUTE FUNCTION groups_live_notify();
CREATE TRIGGER group_members_live AFTER INSERT OR DELETE OR UPDATE ON answer_group_members
    FOR EACH ROW EXECUTE FUNCTION groups_live_notify();
