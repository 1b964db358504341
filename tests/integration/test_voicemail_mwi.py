"""Message waiting: each device's AOR (what res_pjsip_mwi reads for a phone's SUBSCRIBE) names its
user's app_voicemail box, the same box pbx_voicemail_users gives app_voicemail; trunks have none."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.testing import World

pytestmark = [pytest.mark.integration, pytest.mark.voicemail]


async def test_a_devices_aor_names_its_users_mailbox(db_pool: asyncpg.Pool, world: World) -> None:
    rows = await db_pool.fetch(
        "SELECT a.mailboxes, v.mailbox || '@' || v.context AS box"
        "  FROM devices d"
        "  JOIN ps_aors a ON a.id = d.sip_username"
        "  JOIN pbx_voicemail_users v ON v.uniqueid = d.user_id::text"
        " WHERE d.id = ANY($1::bigint[])",
        [world.devices["alpha-user"], world.devices["beta-user"]],
    )
    assert sorted(r["mailboxes"] for r in rows) == ["1001@alpha", "1001@beta"]
    assert all(r["mailboxes"] == r["box"] for r in rows)


async def test_a_trunk_has_no_mailbox(db_pool: asyncpg.Pool, world: World) -> None:
    await db_pool.execute(
        "INSERT INTO trunks (name, host, match) VALUES ('carrier', '192.0.2.1', '192.0.2.1')"
    )
    assert await db_pool.fetchval("SELECT mailboxes FROM ps_aors WHERE id = 'trunk_carrier'") is None
    assert (
        await db_pool.fetchval("SELECT contact FROM ps_aors WHERE id = 'trunk_carrier'")
        == "sip:192.0.2.1:5060"
    )


async def test_a_renumbered_user_moves_the_lamp_to_the_new_box(db_pool: asyncpg.Pool, world: World) -> None:
    await db_pool.execute("UPDATE users SET extension = '1077' WHERE id = $1", world.users["alpha-user"])
    box = await db_pool.fetchval(
        "SELECT a.mailboxes FROM devices d JOIN ps_aors a ON a.id = d.sip_username WHERE d.id = $1",
        world.devices["alpha-user"],
    )
    assert box == "1077@alpha"
