-- How Asterisk may recognise who sends a request (PJSIP identify_by), per endpoint:
-- a device only by its SIP username, and then it must answer the digest challenge of its auth;
-- a trunk only by its source address (ps_endpoint_id_ips: the trunk's match), never by a From
-- user, since a trunk has no password. pjsip.conf tries the address first.

CREATE OR REPLACE VIEW ps_endpoints AS
    SELECT d.sip_username AS id,
           'transport-udp' AS transport,
           d.sip_username AS aors,
           d.sip_username AS auth,
           'org-' || o.slug AS context,
           o.slug AS accountcode,
           'all' AS disallow,
           'ulaw,alaw,gsm' AS allow,
           'no' AS direct_media,
           'yes' AS rtp_symmetric,
           'yes' AS force_rport,
           'yes' AS rewrite_contact,
           'rfc4733' AS dtmf_mode,
           -- Quotes, angle brackets, backslashes and control characters never reach a SIP header.
           '"' || regexp_replace(u.name, '[[:cntrl:]"<>\\]', '', 'g') || '" <' || u.extension || '>' AS callerid,
           'yes' AS send_pai,
           'username' AS identify_by
      FROM devices d
      JOIN users u ON u.id = d.user_id
      JOIN organizations o ON o.id = d.organization_id
    UNION ALL
    SELECT 'trunk_' || t.name, 'transport-udp', 'trunk_' || t.name, NULL, 'pbx-from-trunk', NULL,
           'all', 'ulaw,alaw', 'no', 'yes', 'yes', 'no', 'rfc4733', NULL, 'yes', 'ip'
      FROM trunks t;
