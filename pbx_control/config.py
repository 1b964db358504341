"""Settings, read once from the environment (PBX_*). Every component takes a Settings.

This is the only module of pbx_control that reads the environment (a unit test checks it), and
README.md's settings table lists every variable `from_env` reads (a unit test compares the two).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def _env_int_or_default(name: str, default: int) -> int:
    """Like _env_int, but a value that is not a number means the default."""
    try:
        return _env_int(name, default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    # PostgreSQL: a full URL; the private cluster's URL is derived from the state dir when unset.
    database_url: str = ""
    # HTTP API
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    # FastAGI server (Asterisk connects here: agi://agi_host:agi_port/<handler>)
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    # A handler that has not finished by then leaves the call to the dialplan's fallback.
    agi_deadline_s: float = 0.5
    # own: the FastAGI server runs in a child process with its own event loop and pool (the call
    # path never waits behind API, WebSocket or AMI work); shared: in this process's event loop.
    agi_process: str = "own"
    # The FastAGI process's CPU priority (nice, -20..19): below 0 it comes first when the cores are
    # busy (needs CAP_SYS_NICE; without, agi.priority_unchanged in the log). 0 by default: on the
    # bench's two shared cores -10 gained the decision little and starved the API and events.
    agi_nice: int = 0
    # The event loop of the service and its FastAGI process (kernel/loop.py): uvloop or asyncio.
    event_loop: str = "uvloop"
    # Where softphones register (told to clients when a device is created).
    sip_domain: str = "127.0.0.1"
    sip_port: int = 5060
    # Where browser softphones connect: ws://sip_domain:sip_ws_port/ws (Asterisk's HTTP server).
    sip_ws_port: int = 8088
    # SIP over TLS (SRTP offered on it): the port devices are told, and the certificate/key Asterisk
    # serves (PEM paths as this process sees them); unset: a self-signed pair made in the instance.
    sip_tls_port: int = 5061
    sip_tls_cert: Path | None = None
    sip_tls_key: Path | None = None
    # Failed SIP logins (digest, unknown account) from one address: this many within the window
    # and the address is refused (SIP 403) for block_s (pbx_control/sipguard/). Never the networks
    # in sip_guard_exempt (comma-separated CIDRs, e.g. an office behind one NAT address).
    sip_guard_failures: int = 10
    sip_guard_window_s: int = 60
    sip_guard_block_s: int = 900
    sip_guard_exempt: str = ""
    # AMI (Asterisk Manager Interface)
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "pbx-control"
    ami_secret: str = field(default="", repr=False)
    # Where the Asterisk configuration we render lives (as this process sees it).
    asterisk_etc: Path = Path("/etc/asterisk")
    # Where announcements are written (as this process sees it); Asterisk plays them from
    # {base}/prompts of its instance (PBX_PROMPTS in extensions.conf). Default: next to etc.
    prompts_dir: Path | None = None
    # app_voicemail's spool (<astspooldir>/voicemail) as this process sees it: message audio is read
    # there, uploaded greetings written. Default: <instance>/spool/voicemail beside etc.
    voicemail_spool_dir: Path | None = None
    # How long an API token lives.
    token_ttl_s: int = 12 * 3600
    # Failed logins (auth/throttle.py, in memory per process): at most this many per username and
    # per client address within login_window_s, then 429 until the window lets one out.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_window_s: int = 900
    # How often expired API tokens are deleted (auth/purge.py).
    token_purge_interval_s: int = 3600
    # Which components this process runs: any of api, agi, ami.
    components: tuple[str, ...] = ("api", "agi", "ami")
    log_level: str = "info"
    # bcrypt cost of password hashes (passwords.rounds() keeps it within 4..31; not a number: 12).
    bcrypt_rounds: int = 12
    # Call history and channel events older than this are purged (at least 1 day).
    history_retention_days: int = 365
    # The SMTP relay the mail outbox sends through (pbx_control/mail); no host: mail waits queued.
    smtp_host: str = ""
    smtp_port: int = 25
    # none, starttls or tls (TLS from the first byte, usually port 465); anything else: none.
    smtp_tls: str = "none"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "pbx@localhost"
    # The web app's address as users reach it (links in mails: https://pbx.example.com); empty:
    # http://api_host:api_port.
    public_url: str = ""

    # -- `make run` and the stacks the tests start (pbx_control.runtime) -----------------------
    # Private PostgreSQL clusters, generated secrets and the demo credentials.
    state_dir: Path = Path("/var/lib/pbx-control")
    # The Debian sid root Asterisk runs in (chroot); None (PBX_ASTERISK_ROOT=native): a native Asterisk.
    asterisk_root: Path | None = Path("/var/lib/pbx-control/asterisk-root")
    # PostgreSQL server binaries for the private cluster.
    pg_bin: Path = Path("/usr/lib/postgresql/15/bin")
    # The demo organization's carrier trunk.
    trunk_host: str = "127.0.0.2"
    trunk_port: int = 5080
    # `make run` on ports laid out from this base (as the tests do) instead of the standard ones.
    run_port_base: int | None = None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=_env("PBX_DATABASE_URL", ""),
            api_host=_env("PBX_API_HOST", cls.api_host),
            api_port=_env_int("PBX_API_PORT", cls.api_port),
            agi_host=_env("PBX_AGI_HOST", cls.agi_host),
            agi_port=_env_int("PBX_AGI_PORT", cls.agi_port),
            agi_deadline_s=float(_env("PBX_AGI_DEADLINE_S", str(cls.agi_deadline_s))),
            agi_process=mode
            if (mode := _env("PBX_AGI_PROCESS", cls.agi_process)) in ("own", "shared")
            else "own",
            event_loop=kind
            if (kind := _env("PBX_EVENT_LOOP", cls.event_loop)) in ("uvloop", "asyncio")
            else cls.event_loop,
            agi_nice=max(-20, min(19, _env_int("PBX_AGI_NICE", cls.agi_nice))),
            sip_domain=_env("PBX_SIP_DOMAIN", cls.sip_domain),
            sip_port=_env_int("PBX_SIP_PORT", cls.sip_port),
            sip_ws_port=_env_int("PBX_SIP_WS_PORT", cls.sip_ws_port),
            sip_tls_port=_env_int("PBX_SIP_TLS_PORT", cls.sip_tls_port),
            sip_tls_cert=Path(os.environ["PBX_SIP_TLS_CERT"]) if os.environ.get("PBX_SIP_TLS_CERT") else None,
            sip_tls_key=Path(os.environ["PBX_SIP_TLS_KEY"]) if os.environ.get("PBX_SIP_TLS_KEY") else None,
            sip_guard_failures=_env_int("PBX_SIP_GUARD_FAILURES", cls.sip_guard_failures),
            sip_guard_window_s=_env_int("PBX_SIP_GUARD_WINDOW_S", cls.sip_guard_window_s),
            sip_guard_block_s=_env_int("PBX_SIP_GUARD_BLOCK_S", cls.sip_guard_block_s),
            sip_guard_exempt=_env("PBX_SIP_GUARD_EXEMPT", cls.sip_guard_exempt),
            ami_host=_env("PBX_AMI_HOST", cls.ami_host),
            ami_port=_env_int("PBX_AMI_PORT", cls.ami_port),
            ami_username=_env("PBX_AMI_USERNAME", cls.ami_username),
            ami_secret=_env("PBX_AMI_SECRET", ""),
            asterisk_etc=Path(_env("PBX_ASTERISK_ETC", str(cls.asterisk_etc))),
            prompts_dir=Path(os.environ["PBX_PROMPTS_DIR"]) if os.environ.get("PBX_PROMPTS_DIR") else None,
            voicemail_spool_dir=Path(os.environ["PBX_VOICEMAIL_SPOOL_DIR"])
            if os.environ.get("PBX_VOICEMAIL_SPOOL_DIR")
            else None,
            token_ttl_s=_env_int("PBX_TOKEN_TTL_S", cls.token_ttl_s),
            login_max_failures=max(1, _env_int("PBX_LOGIN_MAX_FAILURES", cls.login_max_failures)),
            login_max_failures_per_address=max(
                1, _env_int("PBX_LOGIN_MAX_FAILURES_PER_ADDRESS", cls.login_max_failures_per_address)
            ),
            login_window_s=max(1, _env_int("PBX_LOGIN_WINDOW_S", cls.login_window_s)),
            token_purge_interval_s=max(1, _env_int("PBX_TOKEN_PURGE_INTERVAL_S", cls.token_purge_interval_s)),
            components=tuple(
                c.strip() for c in _env("PBX_COMPONENTS", "api,agi,ami").split(",") if c.strip()
            ),
            log_level=_env("PBX_LOG_LEVEL", cls.log_level),
            bcrypt_rounds=_env_int_or_default("PBX_BCRYPT_ROUNDS", cls.bcrypt_rounds),
            history_retention_days=max(1, _env_int("PBX_HISTORY_RETENTION_DAYS", cls.history_retention_days)),
            smtp_host=_env("PBX_SMTP_HOST", cls.smtp_host),
            smtp_port=_env_int_or_default("PBX_SMTP_PORT", cls.smtp_port),
            smtp_tls=tls
            if (tls := _env("PBX_SMTP_TLS", cls.smtp_tls)) in ("none", "starttls", "tls")
            else "none",
            smtp_username=_env("PBX_SMTP_USERNAME", ""),
            smtp_password=_env("PBX_SMTP_PASSWORD", ""),
            smtp_from=_env("PBX_SMTP_FROM", cls.smtp_from),
            public_url=_env("PBX_PUBLIC_URL", cls.public_url),
            state_dir=Path(_env("PBX_STATE_DIR", str(cls.state_dir))),
            asterisk_root=_asterisk_root(_env("PBX_ASTERISK_ROOT", str(cls.asterisk_root))),
            pg_bin=Path(_env("PBX_PG_BIN", str(cls.pg_bin))),
            trunk_host=_env("PBX_TRUNK_HOST", cls.trunk_host),
            trunk_port=_env_int("PBX_TRUNK_PORT", cls.trunk_port),
            run_port_base=int(base) if (base := _env("PBX_RUN_PORT_BASE", "")) else None,
        )

    def to_json(self) -> str:
        """Every field, for a child process of the service (the FastAGI process) to rebuild the
        same Settings with `from_json`, secrets included (it is sent over a pipe, never logged)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (
                str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value
            )
        return json.dumps(out)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            default = getattr(cls, f.name, None)
            if isinstance(value, list):
                value = tuple(value)
            elif isinstance(value, str) and (isinstance(default, Path) or f.name in _PATH_FIELDS):
                value = Path(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    @property
    def app_url(self) -> str:
        """Where users open the web app, without a trailing slash (PBX_PUBLIC_URL, else the API's
        own address)."""
        return self.public_url.strip().rstrip("/") or f"http://{self.api_host}:{self.api_port}"

    @property
    def prompts(self) -> Path:
        """The announcements directory: PBX_PROMPTS_DIR, else <instance>/prompts beside etc."""
        return self.prompts_dir or self.asterisk_etc.parent / "prompts"

    @property
    def voicemail_spool(self) -> Path:
        """app_voicemail's spool: PBX_VOICEMAIL_SPOOL_DIR, else <instance>/spool/voicemail beside etc."""
        return self.voicemail_spool_dir or self.asterisk_etc.parent / "spool" / "voicemail"


_PATH_FIELDS = frozenset(
    {
        "sip_tls_cert",
        "sip_tls_key",
        "asterisk_etc",
        "prompts_dir",
        "voicemail_spool_dir",
        "state_dir",
        "asterisk_root",
        "pg_bin",
    }
)


def _asterisk_root(value: str) -> Path | None:
    return None if value == "native" else Path(value)


MIN_AMI_SECRET = 16


def check_ami_secret(secret: str) -> None:
    """Asterisk takes an empty `secret` (anyone who reaches the port logs in with none): refused,
    as is a short one."""
    if len(secret) < MIN_AMI_SECRET or secret != secret.strip():
        raise ValueError(f"the AMI secret must be at least {MIN_AMI_SECRET} characters (PBX_AMI_SECRET)")
