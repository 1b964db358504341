-- One namespace for the names Asterisk sees (PJSIP endpoint, aor, auth and identify ids): a
-- device's sip_username and a trunk's 'trunk_' || name. The ps_* views are UNION ALL, and
-- res_config_pgsql merges every row of an id into one object, so a device named like a trunk's
-- endpoint would lend the trunk its password and take its calls. Refused both ways, under one lock
-- per name for both tables, so neither API can race the other.

DO $$
DECLARE
    taken text;
BEGIN
    SELECT d.sip_username INTO taken
      FROM devices d JOIN trunks t ON d.sip_username = 'trunk_' || t.name LIMIT 1;
    IF taken IS NOT NULL THEN
        RAISE EXCEPTION 'device % has the name of a trunk''s endpoint: delete it, then migrate', taken;
    END IF;
END $$;

CREATE FUNCTION pbx_lock_sip_name(name text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('pbx-sip-name:' || name, 0));
$$;

CREATE FUNCTION pbx_device_sip_name_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_lock_sip_name(NEW.sip_username);
    IF starts_with(NEW.sip_username, 'trunk_')
       AND EXISTS (SELECT 1 FROM trunks t WHERE t.name = substr(NEW.sip_username, 7)) THEN
        RAISE EXCEPTION 'sip_username % is a trunk''s endpoint', NEW.sip_username
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'sip_name_used_by_trunk';
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION pbx_trunk_sip_name_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pbx_lock_sip_name('trunk_' || NEW.name);
    IF EXISTS (SELECT 1 FROM devices d WHERE d.sip_username = 'trunk_' || NEW.name) THEN
        RAISE EXCEPTION 'trunk endpoint trunk_% is a device''s sip_username', NEW.name
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'sip_name_used_by_device';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER devices_sip_name_free BEFORE INSERT OR UPDATE OF sip_username ON devices
    FOR EACH ROW EXECUTE FUNCTION pbx_device_sip_name_free();
CREATE TRIGGER trunks_sip_name_free BEFORE INSERT OR UPDATE OF name ON trunks
    FOR EACH ROW EXECUTE FUNCTION pbx_trunk_sip_name_free();
