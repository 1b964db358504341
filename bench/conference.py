"""conference_mix: how many meeting participants the machine mixes, and the time from the PIN's last
digit to hearing the room.

Rooms of 5 are added one after the other (meetings of the first organization, PINs written to the
database). Every participant is a SIPp phone of its own (a seeded device) that dials `*80`, types
the PIN and # as SIP INFO key presses, and stays; in each room one of them plays a recording
without a break, the four others listen (their audio goes to a socket of the bench). A second AMI
login of the bench sees every participant's `#` (DTMFEnd) and its ConfbridgeJoin, stamped by
Asterisk (`timestampevents`, bench instance).

After a room's five joins, every listener of every room so far is watched for `window_s`: its audio
breaks up when a gap between two packets is over 100 ms or fewer than 90% of the packets due
arrive. Joining takes too long when, in the new room, the time from `#` to ConfbridgeJoin less the
spoken "you are in" prompt (the dialplan plays it first) is over 1 s. The first room that breaks
either stops the climb; the figure is the participants in the rooms before it (capped by
`conference_rooms`). "PIN to room" is from `#` to the first packet of the room's mix a listener
gets (the prompt included: what a caller lives through).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import wave
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench import seed as names
from bench.env import BenchEnv
from bench.params import Params
from bench.results import Result, summary_ms
from bench.sipp_load import SIPP
from pbx_control.ami import AmiClient
from pbx_control.meetings.agi import MeetingPrompts
from tests.support.meeting_calls import RECORDING, join_scenario
from tests.support.rtp import RtpListener, with_media

GOAL = "information: participants mixed (rooms of 5); PIN to room p99"
ROOM_SIZE = 5
MAX_GAP_S = 0.100
MIN_SHARE = 0.90
MAX_JOIN_S = 1.0
FIRST_DEVICE = names.FIRST_EXTENSION + 10  # after those the other measurements use
PORT_SLOT = 5  # SIPp ports: env.sipp_port(PORT_SLOT + n), media 4 above


@dataclass
class Participant:
    n: int
    room: int
    endpoint: str
    speaker: bool
    listener: RtpListener | None = None
    proc: subprocess.Popen[bytes] | None = None
    digit_at: float | None = None  # monotonic, from Asterisk's stamp
    joined_at: float | None = None


@dataclass
class Watch:
    """AMI events of the participants' channels, stamped in this process's monotonic clock."""

    offset: float = field(default_factory=lambda: time.time() - time.monotonic())
    by_endpoint: dict[str, Participant] = field(default_factory=dict)

    def stamp(self, event: Any) -> float:
        try:
            return float(event.get("Timestamp", "")) - self.offset
        except ValueError:
            return time.monotonic()

    def on_event(self, event: Any) -> None:
        channel = str(event.get("Channel", ""))
        endpoint = channel.removeprefix("PJSIP/").rsplit("-", 1)[0]
        p = self.by_endpoint.get(endpoint)
        if p is None:
            return
        name = event.get("Event")
        if name == "DTMFEnd" and event.get("Digit") == "#" and event.get("Direction") == "Received":
            p.digit_at = self.stamp(event)
        elif name == "ConfbridgeJoin" and p.joined_at is None:
            p.joined_at = self.stamp(event)


def _prompt_s(env: BenchEnv) -> float:
    """How long the "you are in" prompt plays (0 when it is not made: then it is not played)."""
    key = MeetingPrompts.key("sv", "joined")
    path = env.stack.settings().prompts / "meetings" / f"{key}.wav"
    try:
        with wave.open(str(path)) as w:
            return float(w.getnframes() / w.getframerate())
    except (OSError, wave.Error):
        return 0.0


def _scenario(pin: str, speaker: bool, port: int | None) -> str:
    xml = join_scenario([pin], hold_ms=900_000, play=speaker)
    if speaker:
        play = f'<nop><action><exec play_pcap_audio="{RECORDING}"/></action></nop>'
        xml = xml.replace(play, "\n  ".join([play, '<pause milliseconds="8000"/>'] * 60), 1)
        return xml.replace("m=audio [media_port] RTP/AVP 0 8", "m=audio [media_port] RTP/AVP 8")
    assert port is not None
    return with_media(xml, port)


def _start(env: BenchEnv, p: Participant, pin: str) -> None:
    port = env.sipp_port(PORT_SLOT + p.n)
    scen = env.workdir / f"conference-{p.n}.xml"
    scen.write_text(_scenario(pin, p.speaker, p.listener.port if p.listener else None))
    cmd = [SIPP, f"{env.sip[0]}:{env.sip[1]}", "-sf", str(scen), "-i", "127.0.0.1", "-p", str(port)]
    cmd += ["-mp", str(port + 4), "-m", "1", "-s", p.endpoint, "-au", p.endpoint, "-ap", names.SIP_PASSWORD]
    cmd += ["-nostdin", "-nd", "-default_behaviors", "all,-bye", "-timeout", "900s"]
    log = (env.workdir / f"conference-{p.n}.log").open("wb")
    p.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _heard(listener: RtpListener, since: float, until: float) -> tuple[float, float]:
    """(share of the packets due that arrived, longest gap in seconds) in [since, until]."""
    times = [t for t, _ in list(listener.arrivals) if since <= t <= until]
    due = (until - since) / 0.020
    if not times:
        return 0.0, until - since
    gaps = [b - a for a, b in zip([since, *times], [*times, until], strict=True)]
    return min(1.0, len(times) / due), max(gaps)


async def _climb(env: BenchEnv, p: Params) -> dict[str, Any]:
    watch = Watch()
    ami = AmiClient(env.stack.settings())
    ami.on_event("DTMFEnd", watch.on_event)
    ami.on_event("ConfbridgeJoin", watch.on_event)
    await ami.start()
    await ami.wait_ready(30)
    # this login also wants the key presses (the service's asks only for system,call,agent,user)
    await ami.send({"Action": "Events", "EventMask": "system,call,agent,user,dtmf"})
    conn = await asyncpg.connect(env.stack.database_url)
    org = await conn.fetchval("SELECT id FROM organizations WHERE slug = $1", names.slug(0))
    owner = await conn.fetchval(
        "SELECT id FROM users WHERE organization_id = $1 AND extension = $2", org, str(names.FIRST_EXTENSION)
    )
    # a repeat: the rooms of the run before go first (their PINs are reused)
    await conn.execute("DELETE FROM meetings WHERE organization_id = $1 AND name LIKE 'Bench room %'", org)
    prompt_s = _prompt_s(env)
    people: list[Participant] = []
    rooms: list[dict[str, Any]] = []
    stopped_by = f"the bench's cap of {p.conference_rooms} rooms"
    pin_to_room: list[float] = []
    joins: list[float] = []
    try:
        for room in range(p.conference_rooms):
            pin = str(700000 + room)
            await conn.execute(
                "INSERT INTO meetings (organization_id, owner_user_id, name, pin, host_pin)"
                " VALUES ($1, $2, $3, $4, $5)",
                org,
                owner,
                f"Bench room {room}",
                pin,
                str(800000 + room),
            )
            new = []
            for k in range(ROOM_SIZE):
                n = len(people)
                endpoint = names.device(0, FIRST_DEVICE + n)
                part = Participant(n, room, endpoint, speaker=k == 0)
                if not part.speaker:
                    part.listener = RtpListener().__enter__()
                watch.by_endpoint[endpoint] = part
                people.append(part)
                new.append(part)
            for part in new:
                _start(env, part, pin)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(x.joined_at for x in new):  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # (set by AMI callbacks; polling keeps the deadline simple)
            room_joins = [
                x.joined_at - x.digit_at - prompt_s for x in new if x.joined_at is not None and x.digit_at
            ]
            joins += room_joins
            if len(room_joins) < ROOM_SIZE:
                stopped_by = (
                    f"room {room + 1}: {ROOM_SIZE - len(room_joins)} of its participants never joined"
                )
                rooms.append({"room": room + 1, "joined": len(room_joins)})
                break
            await asyncio.sleep(p.conference_window_s + 0.3)
            until = time.monotonic() - 0.1
            since = until - p.conference_window_s
            heard = [(x, *_heard(x.listener, since, until)) for x in people if x.listener is not None]
            for x in new:
                if x.listener is not None and x.joined_at is not None:
                    after = [t for t, _ in list(x.listener.arrivals) if t >= x.joined_at]
                    if after and x.digit_at is not None:
                        pin_to_room.append(after[0] - x.digit_at)
            worst_share = min(share for _, share, _ in heard)
            worst_gap = max(gap for _, _, gap in heard)
            loud = sum(1 for x, _, _ in heard if x.listener and x.listener.loud_count(since) > 0)
            rooms.append(
                {
                    "room": room + 1,
                    "participants": len(people),
                    "join_max_ms": round(max(room_joins) * 1000, 1),
                    "worst_share": round(worst_share, 3),
                    "worst_gap_ms": round(worst_gap * 1000, 1),
                    "listeners_hearing_speech": loud,
                    "listeners": len(heard),
                }
            )
            if worst_gap > MAX_GAP_S or worst_share < MIN_SHARE:
                stopped_by = (
                    f"room {room + 1}: audio broke up (gap {worst_gap * 1000:.0f} ms, {worst_share:.0%})"
                )
                break
            if max(room_joins) > MAX_JOIN_S:
                stopped_by = f"room {room + 1}: joining took {max(room_joins) * 1000:.0f} ms"
                break
    finally:
        for x in people:
            if x.proc is not None and x.proc.poll() is None:
                x.proc.terminate()
        for x in people:
            if x.proc is not None:
                try:
                    x.proc.wait(10)
                except subprocess.TimeoutExpired:
                    x.proc.kill()
            if x.listener is not None:
                x.listener.__exit__(None, None, None)
        try:
            await ami.send({"Action": "Hangup", "Channel": f"/^PJSIP\\/{names.slug(0)}_/", "Cause": 16})
        except Exception:  # noqa: S110 (nothing left to hang up is fine)
            pass
        await ami.stop()
        await conn.close()
    good = [r for r in rooms if "worst_gap_ms" in r]
    ok_rooms = len(good) - (0 if stopped_by.startswith("the bench") else 1)
    return {
        "room_size": ROOM_SIZE,
        "mixed_participants": max(0, ok_rooms) * ROOM_SIZE,
        "capped": stopped_by.startswith("the bench"),
        "stopped_by": stopped_by,
        "rooms": rooms,
        "pin_to_room": summary_ms(pin_to_room),
        "join_without_prompt": summary_ms([max(0.0, j) for j in joins]),
        "prompt_ms": round(prompt_s * 1000),
        "window_s": p.conference_window_s,
    }


def run(env: BenchEnv, p: Params) -> Result:
    result = Result("conference_mix", GOAL)
    result.figures = asyncio.run(_climb(env, p))
    return result.judge(None)
