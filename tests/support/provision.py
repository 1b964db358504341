"""Provision organizations, users and devices through the real API, as an admin would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tests.support.api import Api

_orgs = itertools.count(1)
PASSWORD = "user-password-123"


@dataclass
class Device:
    sip_username: str
    sip_password: str
    id: int = 0


@dataclass
class User:
    id: int
    extension: str
    name: str
    username: str
    devices: list[Device] = field(default_factory=list)


@dataclass
class Org:
    slug: str
    id: int
    admin: Api
    platform: Api
    users: dict[str, User] = field(default_factory=dict)

    def add_user(self, extension: str, name: str, *, devices: int = 1, role: str = "user") -> User:
        username = f"u{extension}@{self.slug}"
        u = self.admin.post(
            "/users",
            {"extension": extension, "name": name, "username": username, "password": PASSWORD, "role": role},
            expect=201,
        )
        user = User(u["id"], extension, name, username)
        for _ in range(devices):
            user.devices.append(self.add_device(user))
        self.users[extension] = user
        return user

    def add_device(self, user: User, kind: str = "desk") -> Device:
        d = self.admin.post(f"/users/{user.id}/devices", {"kind": kind}, expect=201)
        return Device(d["sip"]["username"], d["sip"]["password"], d["device"]["id"])

    def add_number(self, number: str, user: User | None) -> None:
        """The platform assigns numbers (an organization's admin takes them only from its ranges)."""
        body = {"number": number, "user_id": user.id if user else None}
        self.platform.post(f"/organizations/{self.id}/numbers", body, expect=201)


def new_org(platform: Api, prefix: str = "e2e", main_number: str | None = "+46812345600") -> Org:
    slug = f"{prefix}{next(_orgs)}"
    admin_user = f"admin@{slug}"
    r = platform.post(
        "/organizations",
        {
            "slug": slug,
            "name": f"Org {slug}",
            "main_number": main_number,
            "admin": {"extension": "1900", "name": "Admin", "username": admin_user, "password": PASSWORD},
        },
        expect=201,
    )
    admin = platform.login(admin_user, PASSWORD)
    return Org(slug, r["id"], admin, platform)
