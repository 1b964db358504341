"""Where softphones register (Settings.sip_domain / sip_port), and what a softphone is told."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_control.config import Settings
from pbx_control.tenancy.devices import SIP_REALM


@dataclass(frozen=True)
class SipClientSettings:
    domain: str = "127.0.0.1"
    port: int = 5060
    tls_port: int = 5061  # SIP over TLS (devices with transport tls; SRTP with SDES only there)

    @classmethod
    def from_settings(cls, settings: Settings) -> SipClientSettings:
        return cls(domain=settings.sip_domain, port=settings.sip_port, tls_port=settings.sip_tls_port)

    def account(self, sip_username: str, password: str, transport: str = "udp") -> dict[str, object]:
        host = f"[{self.domain}]" if ":" in self.domain else self.domain
        return {
            "username": sip_username,
            "password": password,
            "realm": SIP_REALM,
            "domain": self.domain,
            "port": self.port,
            "transport": transport,
            "registrar": f"sip:{host}:{self.port}",
            "aor": f"sip:{sip_username}@{host}",
            "tls_port": self.tls_port,
            "tls_registrar": f"sips:{host}:{self.tls_port}",
        }
