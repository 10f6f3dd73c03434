"""The JWT forgery engine, on tokens made here with PyJWT (keys are generated at test time)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import warnings

import jwt
import pytest

from launchready.engines import jwt_attacks
from launchready.engines.jwt_attacks import (
    FOREIGN_JKU,
    TRAVERSAL_KID,
    WEAK_SECRETS,
    crack_hs256,
    decode,
    host_candidates,
    resign,
    tamper,
    with_header,
)

CLAIMS = {"sub": "7", "org": "acme", "role": "member", "jti": "j-1", "exp": 2_000_000_000}


def _token(key: str, algorithm: str = "HS256", **headers: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about short keys, which is the point
        return jwt.encode(CLAIMS, key, algorithm=algorithm, headers=headers or None)


def _verify(token: str, key: str) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        claims: dict[str, object] = jwt.decode(token, key, algorithms=["HS256", "HS512"])
        return claims


def _signed_with_empty_key(token: str) -> bool:
    """PyJWT refuses empty keys, so the empty-key signature is checked with hmac here."""
    head, payload, signature = token.split(".")
    mac = hmac.new(b"", f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == signature


def _weak_word() -> str:
    return "sec" + "ret"  # the demo's weak key, assembled so no literal key sits in the tests


def test_decode_reads_header_and_claims_without_a_key() -> None:
    parsed = decode(_token(secrets.token_urlsafe(32), kid="k1"))
    assert parsed is not None
    assert parsed.alg == "HS256"
    assert parsed.header["kid"] == "k1"
    assert parsed.claims == CLAIMS


@pytest.mark.parametrize(
    "value", [None, "", "opaque-session-id", "a.b", "a.b.c", "eyJhbGciOi.!!!.x", "e30.W10.sig"]
)
def test_decode_refuses_what_is_not_a_jwt(value: str | None) -> None:
    assert decode(value) is None
    assert not jwt_attacks.is_jwt(value)


def test_crack_finds_a_dictionary_key() -> None:
    word = _weak_word()
    assert word in WEAK_SECRETS
    assert crack_hs256(_token(word)) == word


def test_crack_finds_the_empty_key_and_other_hmac_sizes() -> None:
    empty = resign(CLAIMS, {"alg": "HS256", "typ": "JWT"}, "")
    assert _signed_with_empty_key(empty)
    assert crack_hs256(empty) == ""
    assert crack_hs256(_token(_weak_word(), "HS512")) == _weak_word()


def test_crack_gives_up_on_a_random_key_quickly() -> None:
    token = _token(secrets.token_urlsafe(32))
    started = time.perf_counter()
    assert crack_hs256(token, [*WEAK_SECRETS, *host_candidates("portal.test")]) is None
    assert time.perf_counter() - started < 0.5


def test_crack_uses_the_given_candidates_only() -> None:
    key = f"acme-{secrets.token_hex(4)}"
    assert crack_hs256(_token(key)) is None
    assert crack_hs256(_token(key), ["nope", key]) == key


def test_crack_skips_tokens_without_a_shared_key() -> None:
    unsigned = f"{jwt_attacks.b64url_json({'alg': 'none'})}.{jwt_attacks.b64url_json(CLAIMS)}."
    assert crack_hs256(unsigned, [""]) is None
    assert crack_hs256("not-a-jwt") is None


def test_host_candidates_name_the_application() -> None:
    words = host_candidates("www.portal.test")
    assert "portal" in words and "portal-secret" in words
    assert not any(word.startswith(("www", "test")) for word in words)


def test_resign_makes_a_token_the_key_holder_accepts() -> None:
    key = secrets.token_urlsafe(16)
    forged = resign({**CLAIMS, "role": "admin"}, {"alg": "HS256", "typ": "JWT"}, key)
    assert _verify(forged, key)["role"] == "admin"


def test_resign_falls_back_to_hs256_for_other_algorithms() -> None:
    key = secrets.token_urlsafe(16)
    forged = resign(CLAIMS, {"alg": "RS256"}, key)
    parsed = decode(forged)
    assert parsed is not None and parsed.alg == "HS256"
    assert _verify(forged, key) == CLAIMS


def test_tamper_changes_claims_and_keeps_the_signature() -> None:
    key = secrets.token_urlsafe(32)
    token = _token(key)
    forged = tamper(token, {"sub": "8", "role": "admin"})

    parsed = decode(forged)
    assert parsed is not None
    assert parsed.claims == {**CLAIMS, "sub": "8", "role": "admin"}
    assert forged.split(".")[0] == token.split(".")[0]
    assert forged.split(".")[2] == token.split(".")[2]
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(forged, key)


def test_with_header_keeps_the_signature_unless_given_a_key() -> None:
    key = secrets.token_urlsafe(32)
    token = _token(key)

    jku = with_header(token, {"jku": FOREIGN_JKU})
    parsed = decode(jku)
    assert parsed is not None and parsed.header["jku"] == FOREIGN_JKU
    assert jku.split(".")[1:] == token.split(".")[1:]
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(jku, key)

    kid = with_header(token, {"kid": TRAVERSAL_KID}, secret="")
    parsed = decode(kid)
    assert parsed is not None and parsed.header["kid"] == TRAVERSAL_KID
    assert parsed.claims == CLAIMS
    assert _signed_with_empty_key(kid)  # the content of /dev/null


def test_tamper_refuses_what_is_not_a_jwt() -> None:
    with pytest.raises(ValueError):
        tamper("opaque", {"sub": "1"})
    with pytest.raises(ValueError):
        with_header("opaque", {"kid": "x"})
