-- Message waiting (MWI) for phones: each device's AOR names its user's app_voicemail box
-- (<extension>@<organization slug>, as pbx_voicemail_users in 003), so a phone that SUBSCRIBEs
-- for message-summary gets NOTIFYs from res_pjsip_mwi when the box changes (a message left,
-- listened to through 001, deleted). A user without an extension has no box, so NULL. Trunks
-- have no box. The AOR (not the endpoint) carries it: ps_endpoints is redefined by a later
-- migration (016), which could not keep a column added here.

CREATE OR REPLACE VIEW ps_aors AS
    SELECT d.sip_username AS id,
           5 AS max_contacts,
           'yes' AS remove_existing,
           NULL::text AS contact,
           0 AS qualify_frequency,
           u.extension || '@' || o.slug AS mailboxes
      FROM devices d
      JOIN users u ON u.id = d.user_id
      JOIN organizations o ON o.id = d.organization_id
    UNION ALL
    SELECT 'trunk_' || t.name, 0, 'no', 'sip:' || t.host || ':' || t.port, 0, NULL::text
      FROM trunks t;
