"""Asterisk's side of a FastAGI session, lean enough to offer hundreds of sessions per second.

It sends the env header Asterisk sends for ``AGI(agi://.../route,<linkedid>)`` from a device, answers
every command as Asterisk would for a live channel (``GET FULL VARIABLE x`` echoes x, ``GET VARIABLE``
is unset, the rest succeed) and reads until the server closes. The outcome says whether the
decision arrived (PBX_ROUTE set) or how the connection failed.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

_FULL_VARIABLE = re.compile(rb"^GET FULL VARIABLE (\S+)")
# Ours: SET VARIABLE PBX_ROUTE "dial"; pyst2 quotes the name too.
_SET_ROUTE = re.compile(rb'^SET VARIABLE "?PBX_ROUTE"? "?([^"\s]*)')


@dataclass
class Outcome:
    kind: str  # routed | no-route | refused | reset | timeout | error
    seconds: float
    route: str = ""


@dataclass
class Call:
    """A call as Asterisk would present it: org slug, calling endpoint, dialled extension."""

    organization: str
    endpoint: str
    caller: str
    dialled: str
    uniqueid: str = field(default_factory=lambda: f"{time.time():.6f}")


def header(call: Call, port: int, script: str = "route") -> bytes:
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1:{port}/{script}",
        "agi_channel": f"PJSIP/{call.endpoint}-00000001",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": call.uniqueid,
        "agi_version": "22.0.0",
        "agi_callerid": call.caller,
        "agi_calleridname": f"Bench {call.caller}",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": call.dialled,
        "agi_rdnis": "unknown",
        "agi_context": "pbx-from-device",
        "agi_extension": call.dialled,
        "agi_priority": "4",
        "agi_enhanced": "0.0",
        "agi_accountcode": call.organization,
        "agi_threadid": "140000000000000",
        "agi_arg_1": call.uniqueid,
    }
    return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"


def route_of(line: bytes) -> str | None:
    """The value of PBX_ROUTE if this command line sets it."""
    match = _SET_ROUTE.match(line)
    return match.group(1).decode() if match else None


def reply(line: bytes) -> bytes:
    match = _FULL_VARIABLE.match(line)
    if match:
        return b"200 result=1 (" + match.group(1) + b")\n"
    if line.startswith(b"GET VARIABLE"):
        return b"200 result=0\n"
    return b"200 result=1\n"


async def session(port: int, call: Call, timeout_s: float = 5.0) -> Outcome:
    """One FastAGI session against the server; client-side time from connect to the server's close."""
    started = time.perf_counter()
    route = ""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(header(call, port))
            while True:
                try:
                    line = await reader.readline()
                except ConnectionResetError:
                    if not route:
                        raise
                    # The server closed right after its last command (it does not wait for
                    # SET VARIABLE's reply), so the reply written meanwhile is answered with a
                    # reset. res_agi ends the AGI the same way on a read error as on end of file.
                    break
                if not line:
                    break
                route = route_of(line) or route
                writer.write(reply(line))
    except ConnectionRefusedError:
        return Outcome("refused", time.perf_counter() - started)
    except (ConnectionResetError, BrokenPipeError):
        return Outcome("reset", time.perf_counter() - started)
    except TimeoutError:
        return Outcome("timeout", time.perf_counter() - started)
    except OSError:
        return Outcome("error", time.perf_counter() - started)
    finally:
        if writer is not None:
            writer.close()
    elapsed = time.perf_counter() - started
    return Outcome("routed" if route else "no-route", elapsed, route)
