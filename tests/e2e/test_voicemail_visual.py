"""Visual voicemail with real Asterisk, SIPp phones and a real SMTP server (aiosmtpd).

One module fixture leaves three messages at once (speech from SIPp's pcap), from Anna's three
phones: to Vera after she does not answer (her phone rings), and to Bo and Cid, whose phones are
closed. Vera's message feeds the list, audio, ranges, 404s, mail, the lamp, events and delete;
Bo's the limits and retention; Cid's the greeting upload and the deletion of a user.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import subprocess
import time
import urllib.error
import urllib.request
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pbx_control.ami import AmiClient
from pbx_control.mail.sender import MailSender, Relay
from pbx_control.voicemail.box import Box
from pbx_control.voicemail.service import Voicemail
from pbx_control.voicemail.spool import Spool
from pbx_control.voicemail.workers import Retention
from tests.e2e.conftest import E2E
from tests.e2e.test_voicemail_mwi import SUBSCRIBE_MWI_THEN_CHANGE
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.calls import until
from tests.support.events_ws import EventSocket
from tests.support.meeting_calls import _info as info_key
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import PASSWORD, Org, User, new_org
from tests.support.sipp import Phone, SippRun
from tests.support.smtp import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.voicemail]

# Phones from base+4700 (media at SIP + 10000), clear of the other e2e files' ranges.
_ports = itertools.count(TEST_PORT_BASE + 4700, 10)
SPEECH = "/usr/share/sip-tester/g711a.pcap"  # about 8 s of speech, PCMA
GREETING_S = 7  # the default greeting is spoken for about 6 s; then the beep
HOLD_MS = 15000


@dataclass
class Left:
    org: Org
    users: dict[str, User]
    apis: dict[str, Api]
    messages: dict[str, dict[str, Any]]
    box_dirs: dict[str, Path]
    prompts: Path
    mwi_phone: Phone


def _phone(e2e: E2E, user: User, n: int = 0) -> Phone:
    d = user.devices[n]
    return Phone(d.sip_username, d.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)


def _leave_message(phone: Phone, number: str) -> SippRun:
    """Call, and once answered wait for the greeting, then speak (8 s of speech) and hang up."""
    xml = sipp_scenarios.call(number, hold_ms=HOLD_MS, remote_may_hang_up=True)
    xml = xml.replace("m=audio [media_port] RTP/AVP 0 8", "m=audio [media_port] RTP/AVP 8")
    speak = (
        f'<pause milliseconds="{GREETING_S * 1000 - 2000}"/>'
        f'<nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>'
    )
    assert '<label id="hold"/>' in xml
    xml = xml.replace('<label id="hold"/>', speak + '<label id="hold"/>', 1)
    return phone._start(xml, "leave", remote=True, timeout_s=60)


def _greetings_made(box_dir: Path) -> bool:
    return (box_dir / "unavail.wav").exists() and (box_dir / "busy.wav").exists()


def _only_message(api: Api) -> dict[str, Any] | None:
    listed = api.get("/users/me/voicemail")
    return listed["messages"][0] if len(listed["messages"]) == 1 else None


@pytest.fixture(scope="module")
def left(e2e: E2E, platform: Api) -> Iterator[Left]:
    org = new_org(platform, prefix="vv")
    users = {
        "vera": org.add_user("1401", "Vera Voicemail", devices=2),
        "anna": org.add_user("1402", "Anna Caller", devices=3),
        "otto": org.add_user("1403", "Otto Other"),
        "bo": org.add_user("1404", "Bo Retention"),
        "cid": org.add_user("1405", "Cid Departing"),
    }
    apis = {k: org.admin.login(u.username, PASSWORD) for k, u in users.items()}
    org.admin.request("PATCH", f"/users/{users['vera'].id}", {"ring_time": 5}, expect=200)
    apis["vera"].request(
        "PUT", "/users/me/voicemail/settings", {"mail": True, "mail_to": "vera@example.com"}, expect=200
    )
    for k in ("bo", "cid"):
        apis[k].request("PUT", "/users/me/settings", {"closed": True}, expect=200)
    inst = e2e.stack.asterisk_instance()
    prompts = inst.etc_dir.parent / "prompts"
    box_dirs = {
        k: inst.spool_dir / "voicemail" / org.slug / users[k].extension for k in ("vera", "bo", "cid")
    }
    # the default greetings (spoken with each owner's name) are made in the background, written
    # into the boxes as app_voicemail's unavailable and busy greetings
    for k, d in box_dirs.items():
        until(f"{k}'s default greeting", partial(_greetings_made, d), 30)

    told = EventSocket(apis["vera"]).__enter__()  # Vera's app, open while the messages arrive
    vera_phone = _phone(e2e, users["vera"])
    vera_phone.register()
    ringing = vera_phone.ring(timeout_s=40)
    callers = [_phone(e2e, users["anna"], n) for n in range(3)]
    for p in callers:
        p.register()
    runs = [_leave_message(p, ext) for p, ext in zip(callers, ("1401", "1404", "1405"), strict=True)]
    for run in runs:
        assert run.wait(60) == 0, run.explain()
    assert ringing.wait(10) == 0, ringing.explain()  # rang, was not answered, was cancelled
    messages = {k: until(f"{k}'s message listed", partial(_only_message, apis[k]), 30) for k in box_dirs}
    try:
        added = told.wait_for("voicemail.message_added", lambda e: e.get("type") == "voicemail.message_added")
    finally:
        told.__exit__(None, None, None)
    assert added["message"] == messages["vera"]  # the event carries the message as listed
    yield Left(org, users, apis, messages, box_dirs, prompts, _phone(e2e, users["vera"], 1))


def test_the_message_is_listed_with_the_callers_name_and_duration(left: Left) -> None:
    m = left.messages["vera"]
    assert m["caller_number"] == "1402"
    assert m["caller_name"] == "Anna Caller"
    assert m["duration_s"] > 0
    assert (m["folder"], m["played"]) == ("INBOX", False)
    assert left.apis["vera"].get(f"/users/me/voicemail/messages/{m['id']}") == m
    listed = left.apis["vera"].get("/users/me/voicemail")
    assert (listed["new"], listed["played"], listed["live"]) == (1, 0, True)


@dataclass
class Raw:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.content)


def _raw(api: Api, method: str, path: str, data: bytes | None = None, **headers: str) -> Raw:
    req = urllib.request.Request(api.base + path, data=data, method=method)  # noqa: S310
    req.add_header("Authorization", f"Bearer {api.token}")
    for k, v in headers.items():
        req.add_header(k.replace("_", "-"), v)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:  # noqa: S310
            return Raw(r.status, dict(r.headers.items()), r.read())
    except urllib.error.HTTPError as e:
        return Raw(e.code, dict(e.headers.items()), e.read())


def _audio(api: Api, message_id: int, **headers: str) -> Raw:
    return _raw(api, "GET", f"/users/me/voicemail/messages/{message_id}/audio", None, **headers)


def test_the_audio_is_a_wav_of_that_length_and_ranges_work(left: Left) -> None:
    m = left.messages["vera"]
    api = left.apis["vera"]
    whole = _audio(api, m["id"])
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/wav"
    assert whole.headers["Accept-Ranges"] == "bytes"
    with wave.open(io.BytesIO(whole.content)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
        seconds = w.getnframes() / w.getframerate()
        frames = w.readframes(w.getnframes())
    assert abs(seconds - m["duration_s"]) <= 1.5, (seconds, m["duration_s"])
    assert (
        max(abs(int.from_bytes(frames[i : i + 2], "little", signed=True)) for i in range(0, len(frames), 2))
        > 1000
    )
    part = _audio(api, m["id"], Range="bytes=100-1099")
    assert part.status_code == 206
    assert part.content == whole.content[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(whole.content)}"
    tail = _audio(api, m["id"], Range="bytes=-44")
    assert tail.status_code == 206 and tail.content == whole.content[-44:]
    beyond = _audio(api, m["id"], Range=f"bytes={len(whole.content)}-")
    assert beyond.status_code == 416 and beyond.json()["error"]["code"] == "range_not_satisfiable"
    download = _raw(api, "GET", f"/users/me/voicemail/messages/{m['id']}/audio?download=true")
    disposition = download.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="voicemail-\d{8}-\d{4}-from-1402\.wav"', disposition), (
        disposition
    )


def test_another_users_message_is_404(left: Left, platform: Api) -> None:
    mid = left.messages["vera"]["id"]
    stranger_org = new_org(platform, prefix="vx")
    stranger = stranger_org.add_user("1401", "Same Extension Elsewhere")
    for api in (left.apis["otto"], stranger_org.admin.login(stranger.username, PASSWORD)):
        for method, path, body in (
            ("GET", f"/users/me/voicemail/messages/{mid}", None),
            ("PUT", f"/users/me/voicemail/messages/{mid}", {"played": True}),
            ("DELETE", f"/users/me/voicemail/messages/{mid}", None),
        ):
            err = api.request(method, path, body, expect=404)
            assert err["error"]["code"] == "not_found"
        assert _audio(api, mid).status_code == 404
        assert all(x["id"] != mid for x in api.get("/users/me/voicemail")["messages"])
    assert left.apis["vera"].get(f"/users/me/voicemail/messages/{mid}")["played"] is False  # unchanged


def test_the_mail_with_the_audio_reaches_the_smtp_server(left: Left, e2e: E2E) -> None:
    with SmtpServer() as smtp:
        inbox, port = smtp.inbox, smtp.port

        async def send() -> None:
            pool = await asyncpg.create_pool(e2e.stack.database_url, min_size=1, max_size=2)
            assert pool is not None
            try:
                await MailSender(pool, Relay(host="127.0.0.1", port=port)).run_once()
            finally:
                await pool.close()

        def arrived() -> EmailMessage | None:
            asyncio.run(send())
            return next((m for m in inbox.messages if m["To"] == "vera@example.com"), None)

        mail = until("the voicemail mail", arrived, 20)
    assert "Anna Caller" in mail["Subject"] and "1402" in mail["Subject"], mail["Subject"]
    attachments = list(mail.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_content_type() == "audio/wav"
    audio = _audio(left.apis["vera"], left.messages["vera"]["id"]).content
    assert attachments[0].get_content() == audio


def _counts(notify: str) -> tuple[int, int]:
    m = re.search(r"^Voice-Message: (\d+)/(\d+)", notify, re.M)
    assert m is not None, notify
    return int(m.group(1)), int(m.group(2))


def test_marking_played_clears_the_lamp_and_only_the_owner_is_told(left: Left, e2e: E2E) -> None:
    vera, mid = left.apis["vera"], left.messages["vera"]["id"]
    with (
        EventSocket(vera) as mine,
        EventSocket(left.apis["otto"]) as colleague,
        EventSocket(left.org.admin) as admin,
    ):
        run = left.mwi_phone.start(SUBSCRIBE_MWI_THEN_CHANGE, timeout_s=30)
        until("the first NOTIFY", lambda: run.received("NOTIFY"), 15)
        first = _counts(run.received("NOTIFY")[0])
        assert first[0] >= 1  # Vera's new message lights the lamp
        marked = vera.request("PUT", f"/users/me/voicemail/messages/{mid}", {"played": True}, expect=200)
        assert (marked["folder"], marked["played"]) == ("Old", True)
        assert run.wait(40) == 0, run.explain()
        changed = _counts(run.received("NOTIFY")[1])
        assert changed == (first[0] - 1, first[1] + 1), (first, changed)  # one new fewer, one old more
        event = mine.wait_for(
            "voicemail.message_updated",
            lambda e: e.get("type") == "voicemail.message_updated" and e["message"]["id"] == mid,
        )
        assert event["message"]["played"] is True and "owner_user_id" not in event
        # back to new from the app, then listened to through 001 (press 1: new messages; hang up while
        # it plays): app_voicemail moves it to Old, and the app follows Asterisk's MessageWaiting
        again = vera.request("PUT", f"/users/me/voicemail/messages/{mid}", {"played": False}, expect=200)
        assert (again["folder"], again["played"]) == ("INBOX", False)
        before = len(mine.of_type("voicemail."))
        listened = left.mwi_phone._start(_listen_through_001(), "vmmain", remote=True, timeout_s=30)
        assert listened.wait(40) == 0, listened.explain()
        until(
            "the event of a message played through 001",
            lambda: any(
                e["type"] == "voicemail.message_updated" and e["message"]["played"]
                for e in mine.of_type("voicemail.")[before:]
            ),
            10,
        )
        assert vera.get(f"/users/me/voicemail/messages/{mid}")["played"] is True
        time.sleep(0.3)
        assert colleague.of_type("voicemail.") == [] and admin.of_type("voicemail.") == []


def _listen_through_001() -> str:
    # 1: the new messages; 1 again: skip the envelope (the message counts as heard once it plays)
    xml = sipp_scenarios.call("001", hold_ms=2500, remote_may_hang_up=True)
    keys = (
        '<pause milliseconds="3000"/>'
        + info_key("1", 10)
        + '<pause milliseconds="1500"/>'
        + info_key("1", 11)
    )
    xml = xml.replace('<label id="hold"/>', keys + '<label id="hold"/>', 1)
    return xml.replace("CSeq: 3 BYE", "CSeq: 999 BYE")


def test_delete_removes_it(left: Left) -> None:
    vera, mid = left.apis["vera"], left.messages["vera"]["id"]
    vera.request("DELETE", f"/users/me/voicemail/messages/{mid}", expect=204)
    assert vera.get("/users/me/voicemail")["messages"] == []
    vera.request("GET", f"/users/me/voicemail/messages/{mid}", expect=404)
    assert list(left.box_dirs["vera"].glob("*/msg*.txt")) == []


def test_limits_reach_asterisk_and_retention_removes_old_played_messages(left: Left, e2e: E2E) -> None:
    bo, m = left.apis["bo"], left.messages["bo"]
    limits = left.org.admin.request(
        "PUT",
        f"/users/{left.users['bo'].id}/voicemail/limits",
        {"max_messages": 7, "max_seconds": 42, "retention_days": 1},
        expect=200,
    )
    assert limits == {"max_messages": 7, "max_seconds": 42, "retention_days": 1}
    bo.request("PUT", "/users/me/voicemail/settings", {"mail_to": "not an address"}, expect=400)
    assert bo.get("/users/me/voicemail/settings")["mail_to"] is None  # nothing changed
    bo.request("PUT", f"/users/me/voicemail/messages/{m['id']}", {"played": True}, expect=200)
    received = datetime.fromisoformat(m["received_at"])
    box = Box(left.org.slug, left.users["bo"].extension)

    async def check() -> tuple[dict[str, str], int, int]:
        ami = AmiClient(e2e.stack.settings())
        pool = await asyncpg.create_pool(e2e.stack.database_url, min_size=1, max_size=2)
        assert pool is not None
        await ami.start()
        try:
            await ami.wait_ready(10)
            status = await ami.send(
                {"Action": "VoicemailUserStatus", "Context": box.context, "Mailbox": box.mailbox}
            )
            events = status if isinstance(status, list) else [status]
            event = next(e for e in events if e.get("Event") == "VoicemailUserDetail")
            vm = Voicemail(pool, Spool(e2e.stack.settings().voicemail_spool), ami)
            a_day_later = await Retention(vm, clock=lambda: received + timedelta(hours=23)).run_once()
            two_days_later = await Retention(vm, clock=lambda: received + timedelta(days=2)).run_once()
            return {k: str(v) for k, v in event.items()}, a_day_later, two_days_later
        finally:
            await ami.stop()
            await pool.close()

    status, kept, removed = asyncio.run(check())
    assert (status.get("MaxMessageCount"), status.get("MaxMessageLength")) == ("7", "42"), status
    assert (kept, removed) == (0, 1)
    assert bo.get("/users/me/voicemail")["messages"] == []


def test_greeting_upload_refuses_what_is_not_audio(left: Left, tmp_path: Path) -> None:
    cid = left.apis["cid"]
    path = "/users/me/voicemail/greeting"
    bad = _raw(cid, "PUT", path, b"hello, this is not audio", Content_Type="audio/wav")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "not_audio"
    huge = _raw(cid, "PUT", path, b"\0" * (10 * 1024 * 1024 + 1), Content_Type="audio/wav")
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    assert cid.get("/users/me/voicemail/settings")["greeting"] == "default"
    src = tmp_path / "greeting.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(src), "synth", "2", "sine", "440"], check=True)
    ok = _raw(cid, "PUT", path, src.read_bytes(), Content_Type="audio/wav")
    assert ok.status_code == 200, ok.content
    assert ok.json()["greeting"] == "own" and abs(ok.json()["seconds"] - 2) < 0.1
    for kind in ("unavail", "busy"):  # what app_voicemail plays, also when Cid is busy
        with wave.open(str(left.box_dirs["cid"] / f"{kind}.wav")) as w:
            assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
            assert abs(w.getnframes() - 16000) <= 80
    assert cid.get("/users/me/voicemail/settings")["greeting"] == "own"


def test_deleting_a_user_empties_the_box_for_the_next_owner(left: Left) -> None:
    cid, box = left.users["cid"], left.box_dirs["cid"]
    own = (box / "unavail.wav").read_bytes()  # uploaded above
    assert list(box.glob("*/msg*.txt")) and (box / "busy.wav").exists()
    left.org.admin.request("DELETE", f"/users/{cid.id}", expect=204)
    until("the box emptied", lambda: not list(box.glob("*/msg*.txt")) and not list(box.glob("*.wav")), 15)
    dora = left.org.add_user("1405", "Dora Newcomer")
    api = left.org.admin.login(dora.username, PASSWORD)
    assert api.get("/users/me/voicemail")["messages"] == []
    until("Dora's default greeting", lambda: (box / "unavail.wav").exists(), 15)
    assert (box / "unavail.wav").read_bytes() != own
    assert api.get("/users/me/voicemail/settings")["greeting"] == "default"


def test_messages_changed_in_the_spool_while_the_service_was_stopped_are_caught_up(
    left: Left, e2e: E2E
) -> None:
    """The catch-up after the AMI connect finds the boxes to read by their files in the spool and
    by the mirror (it no longer asks Asterisk about every box): a message that came while nobody
    watched is listed, one removed meanwhile is gone. The service being away, nobody else could
    route a call to voicemail (the dialplan's fallback rings, it takes no messages), so what
    app_voicemail would have done is done to its files: one box's message copied into another's
    INBOX, and the original removed."""
    dan = left.org.add_user("1406", "Dan Away")
    dan_api = left.org.admin.login(dan.username, PASSWORD)
    otto, otto_api = left.users["otto"], left.apis["otto"]
    boxes = left.box_dirs["vera"].parent
    until("dan's default greeting", partial(_greetings_made, boxes / dan.extension), 30)
    otto_api.request("PUT", "/users/me/settings", {"closed": True}, expect=200)  # straight to voicemail
    caller = _phone(e2e, left.users["anna"])
    caller.register()
    run = _leave_message(caller, otto.extension)
    assert run.wait(60) == 0, run.explain()
    until("otto's message listed", partial(_only_message, otto_api), 30)
    assert dan_api.get("/users/me/voicemail")["messages"] == []
    e2e.control.stop()
    try:
        inbox = boxes / dan.extension / "INBOX"
        inbox.mkdir(exist_ok=True)
        for f in (boxes / otto.extension / "INBOX").glob("msg0000.*"):
            (inbox / f.name).write_bytes(f.read_bytes())
            f.unlink()
    finally:
        e2e.control.start()
    until("dan's message listed after the restart", partial(_only_message, dan_api), 30)
    until("otto's message gone", lambda: otto_api.get("/users/me/voicemail")["messages"] == [], 30)
