"""Input rules of the tenancy services, SIP credentials and password hashing (no database)."""

from __future__ import annotations

import hashlib
import re

import bcrypt
import pytest

from pbx_control.auth import passwords
from pbx_control.kernel.errors import Invalid
from pbx_control.tenancy import validation as v
from pbx_control.tenancy.devices import SIP_REALM, generate_password, md5_cred

pytestmark = [pytest.mark.unit, pytest.mark.tenancy]


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")


@pytest.mark.parametrize("ext", ["10", "1001", "99999999"])
def test_extension_ok(ext: str) -> None:
    assert v.extension(ext) == ext


FULLWIDTH_1001 = "\uff11\uff10\uff10\uff11"


@pytest.mark.parametrize("ext", ["1", "0100", "123456789", "10a1", " 1001", 1001, None, FULLWIDTH_1001])
def test_extension_refused(ext: object) -> None:
    with pytest.raises(Invalid, match="2 to 8 digits"):
        v.extension(ext)


def test_username_must_be_lowercase() -> None:
    with pytest.raises(Invalid, match="lowercase"):
        v.username("Alice")
    assert v.username("alice.s@example.com") == "alice.s@example.com"
    for bad in ("a", "-alice", "al ice", "alice'", ""):
        with pytest.raises(Invalid):
            v.username(bad)


@pytest.mark.parametrize("name", ['Kalle "KA" Anka', "Åsa Öberg", "Линь 林", "two\nlines", "O'Brien"])
def test_names_are_kept_as_given(name: str) -> None:
    assert v.name(name) == name


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "nul\x00", None])
def test_bad_names(name: object) -> None:
    with pytest.raises(Invalid, match="name"):
        v.name(name)


def test_email_role_language_ring_time() -> None:
    assert v.email(" a@b.se ") == "a@b.se"
    assert v.email("") is None
    with pytest.raises(Invalid):
        v.email("not-an-email")
    with pytest.raises(Invalid):
        v.role("platform")
    with pytest.raises(Invalid):
        v.language("de")
    with pytest.raises(Invalid):
        v.ring_time(True)
    with pytest.raises(Invalid):
        v.ring_time(301)


def test_timezone_and_working_hours() -> None:
    assert v.timezone("Europe/Stockholm") == "Europe/Stockholm"
    for bad in ("Mars/Olympus", "../etc/passwd", "", None):
        with pytest.raises(Invalid, match="timezone"):
            v.timezone(bad)
    assert v.working_hours({"mon": ["08:00", "17:00"]})
    bad_hours: object
    for bad_hours in ({"mon": ["17:00", "08:00"]}, {"xyz": ["08:00", "17:00"]}, {"mon": ["8", "17:00"]}, []):
        with pytest.raises(Invalid, match="working_hours"):
            v.working_hours(bad_hours)


def test_md5_cred_is_what_asterisk_expects() -> None:
    expected = hashlib.md5(b"acme_1001_1:pbx-control:s3cret-passw0rd", usedforsecurity=False).hexdigest()
    assert SIP_REALM == "pbx-control"
    assert md5_cred("acme_1001_1", "s3cret-passw0rd") == expected


def test_generated_sip_passwords_are_strong_and_valid() -> None:
    seen = {generate_password() for _ in range(50)}
    assert len(seen) == 50
    for pw in seen:
        assert len(pw) >= 20 and re.fullmatch(r"[A-Za-z0-9_-]+", pw)
        assert v.sip_password(pw) == pw


@pytest.mark.parametrize("pw", ["short", "has space inside!", "x" * 129, "åäö-åäö-åäö-å"])
def test_bad_sip_passwords(pw: str) -> None:
    with pytest.raises(Invalid, match="SIP password"):
        v.sip_password(pw)


async def test_password_hash_roundtrip() -> None:
    hashed = await passwords.hash_password("correct horse")
    assert hashed.startswith("$2b$04$")
    assert await passwords.verify_password("correct horse", hashed)
    assert not await passwords.verify_password("wrong horse", hashed)
    assert not await passwords.verify_password("correct horse", None)
    assert not await passwords.verify_password("x" * 100, hashed)
    assert not await passwords.verify_password("correct horse", "not a hash")


def test_rounds_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PBX_BCRYPT_ROUNDS sets the cost; it is read once per process (cache_clear reads it again)."""
    try:
        for value, expected in (("5", 5), ("2", 4), ("junk", passwords.DEFAULT_ROUNDS)):
            monkeypatch.setenv("PBX_BCRYPT_ROUNDS", value)
            passwords.rounds.cache_clear()
            assert passwords.rounds() == expected
        monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "5")
        assert passwords.rounds() == passwords.DEFAULT_ROUNDS  # not read again before cache_clear
        passwords.rounds.cache_clear()
        assert passwords.hash_password_sync("correct horse").startswith("$2b$05$")
    finally:
        passwords.rounds.cache_clear()


def test_missing_user_costs_a_bcrypt_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A login for a username that does not exist does the same bcrypt work as a wrong password."""
    calls = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed[:7])
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    assert not passwords.verify_password_sync("anything", None)
    assert calls == [b"$2b$04$"]
