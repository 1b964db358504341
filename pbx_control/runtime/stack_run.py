"""`make run`: the whole PBX in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from pbx_control import demo, logs
from pbx_control.config import Settings
from pbx_control.db.pool import create_pool
from pbx_control.kernel.loop import run_main, settle_heap
from pbx_control.runtime.stack import RUN_PORTS, Ports, Stack
from pbx_control.service import ControlService


def _print_banner(stack: Stack, creds: dict[str, Any]) -> None:
    p = stack.ports
    config = stack.config
    lines = [
        "",
        "pbx-control is running. Ctrl-C stops everything.",
        f"  Web app       http://127.0.0.1:{p.api}/   <- open in a browser, sign in as a user below",
        f"  HTTP API      http://127.0.0.1:{p.api}/api/v1   (OpenAPI: /api/v1/openapi.json)",
        f"  SIP (UDP)     {config.sip_domain}:{p.sip}   realm pbx-control  <- point a softphone here",
        f"  SIP (TLS)     {config.sip_domain}:{p.sip_tls}",
        f"  FastAGI       agi://127.0.0.1:{p.agi}    AMI 127.0.0.1:{p.ami}",
        f"  PostgreSQL    127.0.0.1:{p.pg} database pbx",
        f"  Carrier trunk sends to {config.trunk_host}:{config.trunk_port}",
        "",
        f"Demo organization '{creds['organization']}' (main number +46812345600):",
    ]
    for u in creds["users"]:
        lines.append(
            f"  {u['extension']}  {u['name']:<15} API login {u['username']} / {u['password']}"
            f"  ({u['role']}{', DID ' + u['number'] if u.get('number') else ''})"
        )
        for d in u["devices"]:
            lines.append(
                f"        SIP {d['kind']:<8} user {d['sip_username']:<16} password {d['sip_password']}"
            )
    pa = creds["platform_admin"]
    lines += [f"  platform admin: API login {pa['username']} / {pa['password']}", ""]
    print("\n".join(lines), flush=True)


def _name_and_ports(base: int | None) -> tuple[str, Ports]:
    """The standard ports, or (PBX_RUN_PORT_BASE) a second stack beside them, as the tests start one."""
    if base is None:
        return "run", RUN_PORTS
    return f"run{base}", Ports.for_tests(base)


def run_stack(verbose: int = 0) -> int:
    config = Settings.from_env()
    name, ports = _name_and_ports(config.run_port_base)
    stack = Stack(name, ports, config=config, database_url=config.database_url, verbose=verbose)
    # Ctrl-C at any point stops what was started so far.
    try:
        print("starting PostgreSQL ...", flush=True)
        stack.start_database()
        print("starting Asterisk ...", flush=True)
        stack.asterisk_instance().render()
        stack.start_asterisk()
        settings = stack.settings()
        logs.configure(settings.log_level)

        async def main() -> None:
            # Ctrl-C from here on stops cleanly (before, asyncio would cancel us half way).
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            creds_file = stack.state_dir / f"{stack.name}-demo-credentials.json"
            pool = await create_pool(stack.database_url, min_size=1, max_size=2)
            try:
                creds, new = await demo.seed(pool, demo.load_credentials(creds_file), config)
            finally:
                await pool.close()
            if new:
                demo.save_credentials(creds_file, creds)
            service = ControlService(settings)
            await service.start()
            settle_heap()
            _print_banner(stack, creds)
            try:
                await stop.wait()
            finally:
                print("stopping ...", flush=True)
                await service.stop()

        run_main(main(), settings.event_loop)
    finally:
        stack.stop()
    print("stopped.", flush=True)
    return 0
