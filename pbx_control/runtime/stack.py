"""The whole stack on one machine: PostgreSQL, Asterisk, and the settings the control service needs.

`make run` starts a Stack named "run"; the end-to-end tests start one named "test" on other ports, so
both can run at once. The control service itself is started by the caller (in-process for `make run`,
as a subprocess in the tests, so a test can stop it).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from pbx_control.config import Settings
from pbx_control.db.migrate import migrate
from pbx_control.runtime.asterisk import AsteriskInstance
from pbx_control.runtime.db_roles import ASTERISK_ROLE, SERVICE_ROLE, DbRole, ensure_roles
from pbx_control.runtime.postgres import PrivateCluster


@dataclass(frozen=True)
class Ports:
    pg: int
    sip: int
    ami: int
    agi: int
    api: int
    rtp_start: int
    rtp_end: int
    # Asterisk's HTTP server: the SIP-over-WebSocket transport of browser softphones (/ws).
    http: int
    # SIP over TLS for devices (pjsip.conf transport-tls); SRTP is offered on it.
    sip_tls: int = 5061

    @classmethod
    def for_tests(cls, base: int) -> Ports:
        """A test stack's ports from one base (the tests' PBX_TEST_PORT_BASE), so several suites can
        run at once. base+2000 .. base+14999 stay free for SIPp phones and their media."""
        return cls(
            pg=base + 433,
            sip=base + 60,
            ami=base + 38,
            agi=base + 573,
            api=base + 80,
            rtp_start=base + 1000,
            rtp_end=base + 1999,
            http=base + 88,
            sip_tls=base + 61,
        )


RUN_PORTS = Ports(
    pg=55432, sip=5060, ami=5038, agi=4573, api=8080, rtp_start=10000, rtp_end=10999, http=8088, sip_tls=5061
)


class Stack:
    """`config` says where the stack lives: its state dir, Asterisk root, PostgreSQL binaries and
    SIP domain (usually Settings.from_env()). With `database_url`, that database replaces the
    private cluster."""

    def __init__(
        self,
        name: str,
        ports: Ports,
        *,
        config: Settings,
        database_url: str | None = None,
        fresh_database: bool = False,
        verbose: int = 0,
    ) -> None:
        self.name = name
        self.ports = ports
        self.config = config
        self.state_dir = config.state_dir
        self.external_database_url = database_url or None
        self.fresh_database = fresh_database
        self.cluster = PrivateCluster(self.state_dir / f"pg-{name}", ports.pg, config.pg_bin)
        self.asterisk_root = config.asterisk_root
        self.verbose = verbose
        self.asterisk: AsteriskInstance | None = None
        # The owner's (migrations, tests' fixtures); the service and Asterisk get their own roles.
        self.database_url = ""
        self.service_database_url = ""
        self.asterisk_role: DbRole | None = None

    # -- secrets kept in the state dir, made once ---------------------------------------------
    def _secret(self, what: str) -> str:
        path = self.state_dir / f"{self.name}-{what}.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24) + "\n")
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def ami_secret(self) -> str:
        return self._secret("ami")

    def role_url(self, role: DbRole) -> str:
        u = urlsplit(self.database_url)
        netloc = f"{quote(role.name, safe='')}:{quote(role.password, safe='')}@{u.hostname}:{u.port}"
        return urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))

    # -- components -----------------------------------------------------------------------------
    def start_database(self) -> str:
        if self.external_database_url:
            self.database_url = self.external_database_url
        else:
            self.cluster.start()
            self.cluster.create_database("pbx", drop_first=self.fresh_database)
            self.database_url = self.cluster.url("pbx")

        async def _migrate() -> None:
            conn = await asyncpg.connect(self.database_url)
            try:
                await migrate(conn)
                if not self.external_database_url:
                    await ensure_roles(conn, service, asterisk)
            finally:
                await conn.close()

        service = DbRole(SERVICE_ROLE, self._secret("db-service"))
        asterisk = DbRole(ASTERISK_ROLE, self._secret("db-asterisk"))
        asyncio.run(_migrate())
        if self.external_database_url:
            # An operator's database: its URL is used as given (its roles are the operator's).
            self.service_database_url = self.database_url
        else:
            self.service_database_url = self.role_url(service)
            self.asterisk_role = asterisk
        return self.database_url

    def asterisk_instance(self) -> AsteriskInstance:
        if self.asterisk is None:
            u = urlsplit(self.database_url)
            self.asterisk = AsteriskInstance(
                name=self.name,
                root=self.asterisk_root,
                sip_port=self.ports.sip,
                ami_port=self.ports.ami,
                ami_secret=self.ami_secret,
                agi_url=f"agi://127.0.0.1:{self.ports.agi}",
                db_host=u.hostname or "127.0.0.1",
                db_port=u.port or 5432,
                db_name=u.path.lstrip("/") or "pbx",
                db_user=self.asterisk_role.name if self.asterisk_role else unquote(u.username or ""),
                db_password=self.asterisk_role.password if self.asterisk_role else unquote(u.password or ""),
                rtp_start=self.ports.rtp_start,
                rtp_end=self.ports.rtp_end,
                http_port=self.ports.http,
                sip_tls_port=self.ports.sip_tls,
                tls_cert_file=self.config.sip_tls_cert,
                tls_key_file=self.config.sip_tls_key,
                verbose=self.verbose,
                full_log=self.verbose > 0,
            )
        return self.asterisk

    def start_asterisk(self) -> AsteriskInstance:
        inst = self.asterisk_instance()
        if self.fresh_database:
            inst.forget_registrations()
        inst.start()
        return inst

    def service_env(self) -> dict[str, str]:
        """Environment for `python -m pbx_control serve` against this stack."""
        inst = self.asterisk_instance()
        return {
            "PBX_DATABASE_URL": self.service_database_url,
            "PBX_API_PORT": str(self.ports.api),
            "PBX_AGI_PORT": str(self.ports.agi),
            "PBX_AMI_PORT": str(self.ports.ami),
            "PBX_AMI_USERNAME": inst.ami_username,
            "PBX_AMI_SECRET": self.ami_secret,
            "PBX_ASTERISK_ETC": str(inst.etc_dir),
            "PBX_SIP_PORT": str(self.ports.sip),
            "PBX_SIP_WS_PORT": str(self.ports.http),
            "PBX_SIP_TLS_PORT": str(self.ports.sip_tls),
        }

    def settings(self) -> Settings:
        env = self.service_env()
        return Settings(
            database_url=env["PBX_DATABASE_URL"],
            api_port=self.ports.api,
            agi_port=self.ports.agi,
            ami_port=self.ports.ami,
            ami_username=env["PBX_AMI_USERNAME"],
            ami_secret=self.ami_secret,
            asterisk_etc=Path(env["PBX_ASTERISK_ETC"]),
            sip_port=self.ports.sip,
            sip_ws_port=self.ports.http,
            sip_tls_port=self.ports.sip_tls,
            sip_domain=self.config.sip_domain,
            agi_process=self.config.agi_process,
        )

    def stop(self) -> None:
        try:
            if self.asterisk is not None:
                self.asterisk.stop()
        finally:
            if not self.external_database_url:
                self.cluster.stop()
