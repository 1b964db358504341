"""Least privilege on the running stack (issue 13, item 12): the service's own AMI login cannot
run CLI commands nor write configuration; a trunk for the whole internet is refused; Asterisk and
the service connect to PostgreSQL as roles that are no superuser and may only do their part."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from pbx_control.runtime.db_roles import ASTERISK_ROLE, SERVICE_ROLE
from tests.e2e.conftest import E2E
from tests.support.ami_events import AmiEvents
from tests.support.api import Api
from tests.support.counted import counts

pytestmark = [pytest.mark.e2e, pytest.mark.security]

REFUSED_ACTIONS = [
    ("Command", {"Command": "core show version"}),
    ("Command", {"Command": "dialplan add extension 9@default into default replace"}),
    ("UpdateConfig", {"SrcFilename": "extensions.conf", "DstFilename": "extensions.conf"}),
    ("CreateConfig", {"Filename": "pbx-test-created.conf"}),
]
# Still allowed through `system` (which Reload and SorceryMemoryCacheExpire* need, Asterisk has no
# narrower class for them): GetConfig, ModuleLoad, Originate of System(). README, Security.


def test_the_services_ami_login_runs_no_cli_and_touches_no_configuration(e2e: E2E, platform: Api) -> None:
    inst = e2e.stack.asterisk_instance()
    denied = []
    with AmiEvents(e2e.stack.ports.ami, inst.ami_username, e2e.stack.ami_secret) as ami:
        for action, headers in REFUSED_ACTIONS:
            reply = ami.action(
                action, timeout_s=5, **headers
            )  # the default, named (else mypy: **headers fills it)
            if reply.get("Response") == "Error" and "Permission denied" in reply.get("Message", ""):
                denied.append(action)
        allowed = ami.action("Reload", Module="pbx_config")  # what the service does need
    refused_trunks = 0
    for match in ("0.0.0.0/0", "::/0", "10.0.0.0/8"):
        body = {"name": "everyone", "host": "sip.example.net", "match": match}
        reply = platform.post("/trunks", body, expect=400)
        refused_trunks += reply["error"]["code"] == "invalid"
    line = counts(
        "security/least-privilege",
        ami_actions_tried=len(REFUSED_ACTIONS),
        denied=len(denied),
        wide_trunks_refused=f"{refused_trunks}/3",
    )
    assert len(denied) == len(REFUSED_ACTIONS), (denied, line)
    assert allowed.get("Response") == "Success", allowed
    assert refused_trunks == 3, line


# -- the database roles (pbx_control/runtime/db_roles.py) ------------------------------------------
ASTERISK_REFUSED = [
    "UPDATE users SET name = 'owned'",
    "SELECT password_hash FROM users",
    "SELECT token_sha256 FROM api_tokens",
    "DELETE FROM call_history",
    "SELECT count(*) FROM cel",
    "CREATE TABLE pbx_created (id int)",
]
SERVICE_REFUSED = [
    "CREATE ROLE pbx_intruder LOGIN SUPERUSER",
    "SELECT rolpassword FROM pg_authid",
    "CREATE TABLE pbx_created (id int)",
    "DROP TABLE users",
    "INSERT INTO schema_migrations (name) VALUES ('999_fake.sql')",
]


async def _refused(dsn: str, statements: list[str]) -> list[str]:
    """The statements PostgreSQL refuses for lack of privilege, on a connection as `dsn`'s role."""
    conn = await asyncpg.connect(dsn)
    refused = []
    try:
        for statement in statements:
            try:
                async with conn.transaction():
                    await conn.execute(statement)
            except asyncpg.InsufficientPrivilegeError:
                refused.append(statement)
    finally:
        await conn.close()
    return refused


def test_asterisk_and_the_service_connect_as_roles_that_may_do_only_their_part(e2e: E2E) -> None:
    stack = e2e.stack
    role = stack.asterisk_role
    assert role is not None
    asterisk_dsn = stack.role_url(role)

    async def check() -> tuple[list[asyncpg.Record], list[str], list[str], int]:
        conn = await asyncpg.connect(stack.database_url)
        try:
            # Who is connected right now: Asterisk's realtime and CEL drivers, the service's pools.
            backends = await conn.fetch(
                "SELECT DISTINCT a.usename, coalesce(a.application_name, '') LIKE 'asterisk-%' AS asterisk,"
                " r.rolsuper OR r.rolcreaterole OR r.rolcreatedb AS powerful"
                " FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename"
                " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        asterisk_refused = await _refused(asterisk_dsn, ASTERISK_REFUSED)
        service_refused = await _refused(stack.service_database_url, SERVICE_REFUSED)
        # What Asterisk does need still works: the realtime views.
        conn = await asyncpg.connect(asterisk_dsn)
        try:
            readable = await conn.fetchval("SELECT count(*) FROM ps_endpoints") or 0
        finally:
            await conn.close()
        return backends, asterisk_refused, service_refused, readable

    backends, asterisk_refused, service_refused, readable = asyncio.run(check())
    line = counts(
        "security/database-roles",
        asterisk_refused=f"{len(asterisk_refused)}/{len(ASTERISK_REFUSED)}",
        service_refused=f"{len(service_refused)}/{len(SERVICE_REFUSED)}",
        connected=sorted({b["usename"] for b in backends}),
    )
    assert {b["usename"] for b in backends if b["asterisk"]} == {ASTERISK_ROLE}, line
    assert SERVICE_ROLE in {b["usename"] for b in backends if not b["asterisk"]}, line
    assert not [b for b in backends if b["powerful"]], line
    assert asterisk_refused == ASTERISK_REFUSED, line
    assert service_refused == SERVICE_REFUSED, line
    assert readable >= 0
