-- Asterisk keeps the SIP accounts it read (endpoints, auths, aors, trunk identification) in a
-- sorcery memory cache (asterisk-config/sorcery.conf), so registered phones and the carrier's calls
-- survive a short PostgreSQL outage. Every change of a row those views are made of tells the
-- control service (NOTIFY pbx_sip_objects, payload: the object's id, the sip username or
-- trunk_<name>), which has Asterisk drop that object from its caches (AMI
-- SorceryMemoryCacheExpireObject; pbx_control/tenancy/sip_cache.py): the next request reads it
-- again. Changes made by hand in SQL are covered the same way.

CREATE FUNCTION pbx_sip_objects_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'devices' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('pbx_sip_objects', OLD.sip_username);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('pbx_sip_objects', NEW.sip_username);
        END IF;
    ELSIF TG_TABLE_NAME = 'trunks' THEN
        IF TG_OP <> 'INSERT' THEN
            PERFORM pg_notify('pbx_sip_objects', 'trunk_' || OLD.name);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM pg_notify('pbx_sip_objects', 'trunk_' || NEW.name);
        END IF;
    ELSIF TG_TABLE_NAME = 'users' THEN  -- the caller id name, the extension, the mailbox
        PERFORM pg_notify('pbx_sip_objects', d.sip_username) FROM devices d WHERE d.user_id = NEW.id;
    ELSIF TG_TABLE_NAME = 'organizations' THEN  -- the context, the account code, the mailbox
        PERFORM pg_notify('pbx_sip_objects', d.sip_username) FROM devices d WHERE d.organization_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER devices_sip_cache AFTER INSERT OR UPDATE OR DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION pbx_sip_objects_notify();
CREATE TRIGGER trunks_sip_cache AFTER INSERT OR UPDATE OR DELETE ON trunks
    FOR EACH ROW EXECUTE FUNCTION pbx_sip_objects_notify();
CREATE TRIGGER users_sip_cache AFTER UPDATE OF name, extension ON users
    FOR EACH ROW EXECUTE FUNCTION pbx_sip_objects_notify();
CREATE TRIGGER organizations_sip_cache AFTER UPDATE OF slug ON organizations
    FOR EACH ROW EXECUTE FUNCTION pbx_sip_objects_notify();
