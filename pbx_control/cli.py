"""Command line: serve, stack (what `make run` runs), migrate, render-asterisk-config."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

import asyncpg

from pbx_control import logs
from pbx_control.config import Settings
from pbx_control.kernel.loop import run_main


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def cmd_serve(_args: argparse.Namespace) -> int:
    from pbx_control.service import serve_forever

    settings = Settings.from_env()
    logs.configure(settings.log_level)
    if not settings.database_url:
        raise SystemExit("PBX_DATABASE_URL is not set")

    async def main() -> None:
        await serve_forever(settings, _stop_event())

    run_main(main(), settings.event_loop)
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    from pbx_control.db.migrate import migrate

    async def main() -> None:
        conn = await asyncpg.connect(Settings.from_env().database_url)
        try:
            print("applied:", await migrate(conn) or "nothing (up to date)")
        finally:
            await conn.close()

    asyncio.run(main())
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """Render pbx_control/asterisk-config/ for a native Asterisk (production)."""
    from urllib.parse import unquote, urlsplit

    from pbx_control.runtime.asterisk import AsteriskInstance

    s = Settings.from_env()
    u = urlsplit(s.database_url)
    inst = AsteriskInstance(
        name=args.instance,
        root=None,
        sip_port=s.sip_port,
        sip_tls_port=s.sip_tls_port,
        tls_cert_file=s.sip_tls_cert,
        tls_key_file=s.sip_tls_key,
        ami_port=s.ami_port,
        ami_secret=s.ami_secret,
        agi_url=f"agi://{s.agi_host}:{s.agi_port}",
        db_host=u.hostname or "127.0.0.1",
        db_port=u.port or 5432,
        db_name=u.path.lstrip("/"),
        db_user=unquote(u.username or ""),
        db_password=unquote(u.password or ""),
        rtp_start=10000,
        rtp_end=20000,
        ami_username=s.ami_username,
        base_dir=str(args.dir.resolve()) if args.dir else None,
    )
    inst.render()
    print(f"rendered into {inst.etc_dir}; start Asterisk with: asterisk -C {inst.etc_dir}/asterisk.conf")
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    from pbx_control.runtime.stack_run import run_stack

    return run_stack(verbose=args.verbose)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pbx-control")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the control service (settings from PBX_* variables)").set_defaults(
        func=cmd_serve
    )
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    p = sub.add_parser("stack", help="start PostgreSQL, Asterisk and the service; seed the demo")
    p.add_argument("-v", "--verbose", type=int, default=0, help="Asterisk verbosity into its full.log")
    p.set_defaults(func=cmd_stack)
    p = sub.add_parser("render-asterisk-config", help="render the Asterisk configuration (native Asterisk)")
    p.add_argument("--instance", default="main")
    p.add_argument(
        "--dir",
        type=Path,
        help="instance directory: the configuration in DIR/etc, Asterisk's own directories beside it"
        " (default /var/lib/pbx-control/asterisk-<instance>)",
    )
    p.set_defaults(func=cmd_render)
    args = parser.parse_args(argv)
    return int(args.func(args))


__all__ = ["Path", "main"]
