"""The box through Asterisk's own AMI voicemail actions (app_voicemail, Asterisk 22): read with
VoicemailBoxSummary, changed only with VoicemailMove and VoicemailRemove (each takes the box's lock
and updates the lamp itself) and VoicemailRefresh (the lamp re-read after greetings changed). The
spool is never written here, so a box Asterisk has open is never corrupted."""

from __future__ import annotations

from pbx_control.ami import AmiClient
from pbx_control.ami.actions import first_message
from pbx_control.kernel.errors import NotFound
from pbx_control.voicemail.box import FOLDERS, MSG_ID, Box, Reported, parse_detail


def _check(folder: str, msg_id: str) -> None:
    if folder not in FOLDERS or not MSG_ID.fullmatch(msg_id):
        raise ValueError(f"not a message: {folder}/{msg_id}")


async def summary(ami: AmiClient, box: Box) -> list[Reported]:
    """Every message of the box, in every folder. An unknown box (no such user) is empty."""
    response = await ami.send(
        {"Action": "VoicemailBoxSummary", "Context": box.context, "Mailbox": box.mailbox}, timeout_s=5
    )
    events = response if isinstance(response, list) else [first_message(response)]
    out: list[Reported] = []
    for ev in events:
        if str(ev.get("Event", "")) != "VoicemailBoxDetail":
            continue
        parsed = parse_detail({k: str(v) for k, v in ev.items() if isinstance(v, str)})
        if parsed is not None:
            out.append(parsed)
    return out


async def move(ami: AmiClient, box: Box, folder: str, msg_id: str, to_folder: str) -> None:
    _check(folder, msg_id)
    _check(to_folder, msg_id)
    response = await ami.send(
        {
            "Action": "VoicemailMove",
            "Context": box.context,
            "Mailbox": box.mailbox,
            "Folder": folder,
            "ID": msg_id,
            "ToFolder": to_folder,
        },
        timeout_s=5,
    )
    _raise_unless("successful", response)


async def remove(ami: AmiClient, box: Box, folder: str, msg_id: str) -> None:
    _check(folder, msg_id)
    response = await ami.send(
        {
            "Action": "VoicemailRemove",
            "Context": box.context,
            "Mailbox": box.mailbox,
            "Folder": folder,
            "ID": msg_id,
        },
        timeout_s=5,
    )
    _raise_unless("successful", response)


async def refresh(ami: AmiClient, box: Box) -> None:
    await ami.send(
        {"Action": "VoicemailRefresh", "Context": box.context, "Mailbox": box.mailbox}, timeout_s=5
    )


def _raise_unless(word: str, response: object) -> None:
    # app_voicemail acks a failed move/remove too ("Message move failed"): read the message.
    message = str(first_message(response).get("Message", ""))  # type: ignore[arg-type]
    if word not in message.lower():
        raise NotFound("no such message (it was moved or removed meanwhile)")
