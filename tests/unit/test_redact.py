"""Masking: no credential survives in full, whatever shape it comes in."""

import secrets

import pytest

from launchready.probe.redact import Redactor, mask


def test_mask_keeps_prefix_and_length_only() -> None:
    value = "tok_" + secrets.token_hex(16)
    shown = mask(value)
    assert shown.startswith(value[:4]) and value not in shown and str(len(value)) in shown
    assert mask("short") == "****"


def test_known_values_jwts_and_assignments_are_masked() -> None:
    known = secrets.token_urlsafe(20)
    jwt = "eyJ" + secrets.token_urlsafe(10) + ".eyJ" + secrets.token_urlsafe(20) + "." + "x" * 20
    generated = secrets.token_hex(12)
    text = f"password={known} auth {jwt} SECRET_KEY={generated} name=alice"
    redacted = Redactor([known]).text(text)
    for value in (known, jwt, generated):
        assert value not in redacted
    assert "name=alice" in redacted


def test_headers() -> None:
    token = secrets.token_urlsafe(24)
    redactor = Redactor()
    headers = redactor.headers(
        {
            "Authorization": f"Bearer {token}",
            "Cookie": f"session={token}; theme=dark",
            "Set-Cookie": f"session={token}; Secure; HttpOnly",
            "Content-Type": "application/json",
        }
    )
    assert all(token not in value for value in headers.values())
    assert headers["Authorization"].startswith("Bearer ")
    assert "Secure; HttpOnly" in headers["Set-Cookie"]
    assert headers["Content-Type"] == "application/json"


def test_passwords_and_known_credentials_show_no_characters() -> None:
    from launchready.probe.redact import Redactor

    password = "pw-" + "q7Lm2Rx9Tz5Kv8Nb"
    redactor = Redactor([password])
    assert redactor.text(f"sent {password} twice") == f"sent ****({len(password)} chars) twice"

    unknown = "Hk3" + "Zq9Wm2Lp7Xc4"
    shown = Redactor().text(f'{{"password": "{unknown}"}}')
    assert unknown[:4] not in shown and f"****({len(unknown)} chars)" in shown


@pytest.mark.parametrize(
    "stored",
    [
        "$argon2id$v=19$m=19456,t=2,p=1$" + "R29vZFNhbHQ" + "$" + "x" * 43,
        "$2b$12$" + "a" * 53,
        "pbkdf2_sha256$600000$" + "s" * 22 + "$" + "h" * 44,
    ],
)
def test_password_hashes_in_a_dump_are_hidden(stored: str) -> None:
    from launchready.probe.redact import Redactor

    dump = f"INSERT INTO users VALUES ('ann@x.test', '{stored}');"
    shown = Redactor().text(dump)
    assert stored not in shown and stored[:12] not in shown
    assert "ann@x.test" in shown and f"****({len(stored)} chars)" in shown
