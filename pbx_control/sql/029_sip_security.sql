-- SIP over TLS and SRTP for devices (pbx_control/tenancy/devices.py). A device's `transport` is
-- where Asterisk reaches it: 'udp' (transport-udp) or 'tls' (transport-tls: calls to the phone go
-- over the TLS connection it registered on). `media_encryption` 'sdes' makes its endpoint offer
-- and require SRTP with SDES keys (RTP/SAVP, a=crypto); only with TLS, since the keys travel in
-- the SDP and over UDP anyone on the path reads them. Web devices keep WebSocket and DTLS-SRTP.
ALTER TABLE devices
    ADD COLUMN transport text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tls')),
    ADD COLUMN media_encryption text NOT NULL DEFAULT 'none' CHECK (media_encryption IN ('none', 'sdes')),
    ADD CONSTRAINT devices_sdes_needs_tls CHECK (media_encryption = 'none' OR transport = 'tls'),
    ADD CONSTRAINT devices_web_is_ws CHECK (kind <> 'web' OR (transport = 'udp' AND media_encryption = 'none'));

-- As in 016, with the transport and media_encryption columns (added at the end: CREATE OR REPLACE
-- keeps the existing columns and grants).
CREATE OR REPLACE VIEW ps_endpoints AS
    SELECT d.sip_username AS id,
           CASE WHEN d.kind = 'web' THEN 'transport-ws'
                WHEN d.transport = 'tls' THEN 'transport-tls'
                ELSE 'transport-udp' END AS transport,
           d.sip_username AS aors,
           d.sip_username AS auth,
           'org-' || o.slug AS context,
           o.slug AS accountcode,
           'all' AS disallow,
           CASE WHEN d.kind = 'web' THEN 'opus,ulaw,alaw' ELSE 'ulaw,alaw,gsm' END AS allow,
           'no' AS direct_media,
           'yes' AS rtp_symmetric,
           'yes' AS force_rport,
           'yes' AS rewrite_contact,
           'rfc4733' AS dtmf_mode,
           '"' || regexp_replace(u.name, '[[:cntrl:]"<>\\]', '', 'g') || '" <' || u.extension || '>' AS callerid,
           'yes' AS send_pai,
           'username' AS identify_by,
           CASE WHEN d.kind = 'web' THEN 'yes' ELSE 'no' END AS webrtc,
           CASE WHEN d.kind = 'web' THEN 'yes' END AS dtls_auto_generate_cert,
           CASE WHEN d.media_encryption = 'sdes' THEN 'sdes' END AS media_encryption
      FROM devices d
      JOIN users u ON u.id = d.user_id
      JOIN organizations o ON o.id = d.organization_id
    UNION ALL
    SELECT 'trunk_' || t.name, 'transport-udp', 'trunk_' || t.name, NULL, 'pbx-from-trunk', NULL,
           'all', 'ulaw,alaw', 'no', 'yes', 'yes', 'no', 'rfc4733', NULL, 'yes', 'ip', 'no', NULL, NULL
      FROM trunks t;

-- Addresses refused for a while after too many failed SIP logins (pbx_control/sipguard/): the
-- service counts Asterisk's security events per source address and, past its limit, records the
-- address here and has Asterisk refuse it (a res_pjsip ACL in Asterisk's astdb, pbx_guard/acl);
-- when `until` has passed (by the service's clock) it deletes the row and the ACL. The astdb is
-- made to match this table every few seconds, so deleting a row by hand lifts a block as well.
CREATE TABLE sip_blocks (
    address     inet PRIMARY KEY CHECK (masklen(address) = CASE WHEN family(address) = 4 THEN 32 ELSE 128 END),
    failures    integer NOT NULL CHECK (failures > 0),
    blocked_at  timestamptz NOT NULL,
    until       timestamptz NOT NULL CHECK (until > blocked_at)
);
