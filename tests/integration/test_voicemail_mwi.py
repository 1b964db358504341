"""Message waiting: each device's AOR (what res_pjsip_mwi reads for a phone's SUBSCRIBE) names its
user's app_voicemail box, the same box pbx_voicemail_users gives app_voicemail; trunks have none."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.testing import World
from pbx_control.voicemail import repository
from pbx_control.voicemail.box import Box

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


async def test_the_catch_up_reads_the_owners_of_the_boxes_it_names_only(
    db_pool: asyncpg.Pool, world: World
) -> None:
    assert await repository.users_with_messages(db_pool) == set()
    for user, msg_id in (("beta-operator", "1700000000-0000000a"), ("beta-operator", "1700000001-0000000b")):
        await db_pool.execute(
            "INSERT INTO voicemail_messages (organization_id, user_id, msg_id, folder, received_at,"
            " duration_s) VALUES ($1, $2, $3, 'INBOX', now(), 3)",
            world.orgs["beta"],
            world.users[user],
            msg_id,
        )
    assert await repository.users_with_messages(db_pool) == {world.users["beta-operator"]}
    boxes = [Box("alpha", "1001"), Box("beta", "1000"), Box("alpha", "1999")]  # 1999: nobody's
    owners = await repository.owners_of(db_pool, boxes, {world.users["beta-operator"]})
    assert [r["id"] for r in owners] == sorted(
        [world.users["alpha-user"], world.users["beta-admin"], world.users["beta-operator"]]
    )
    assert await repository.owners_of(db_pool, [], set()) == []
