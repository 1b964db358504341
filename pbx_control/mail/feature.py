"""Mail in the control service: the sender worker (the outbox itself is used by other features)."""

from __future__ import annotations

from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.mail.sender import MailSender, Relay


def relay(rt: Runtime) -> Relay:
    s = rt.settings
    return Relay(
        host=s.smtp_host,
        port=s.smtp_port,
        tls=s.smtp_tls,
        username=s.smtp_username,
        password=s.smtp_password,
        sender=s.smtp_from,
    )


def _workers(rt: Runtime) -> list[Worker]:
    return [MailSender(rt.pool, relay(rt))]


FEATURE = Feature(name="mail", workers=_workers)
