"""The pure judgements of the session and token checks, on hand-built answers."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from launchready.checks.auth_tokens import (
    Samples,
    answers_differ,
    cookie_lifetime,
    describe_key,
    normalise_body,
    refused_alike,
    timing_differs,
)

NOW = 1_800_000_000.0


IN_AN_HOUR = formatdate(NOW + 3600, usegmt=True)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("session=abc; Max-Age=28800; Path=/", 28800),
        ("session=abc; max-age=2592000", 2592000),
        (f"session=abc; Expires={IN_AN_HOUR}; Secure", 3600),
        ("session=abc; Path=/; HttpOnly", None),
        ("session=abc; Expires=not a date", None),
    ],
)
def test_cookie_lifetime(header: str, seconds: float | None) -> None:
    assert cookie_lifetime(header, NOW) == seconds


def samples(statuses: list[int], bodies: list[str], times: list[float]) -> Samples:
    group = Samples()
    group.statuses, group.bodies, group.times_ms = list(statuses), list(bodies), list(times)
    return group


def test_different_status_or_message_is_a_signal() -> None:
    known = samples([401] * 3, ["wrong password"] * 3, [50] * 3)
    unknown = samples([404] * 3, ["no account"] * 3, [50] * 3)
    assert "HTTP 401" in (answers_differ(known, unknown) or "")

    same_status = samples([401] * 3, ["no account"] * 3, [50] * 3)
    assert "message" in (answers_differ(known, same_status) or "")


def test_identical_or_noisy_answers_are_no_signal() -> None:
    same = samples([401] * 3, ["invalid credentials"] * 3, [50] * 3)
    assert answers_differ(same, same) is None

    # A group that disagrees with itself (say, a request id in the body) says nothing.
    noisy = samples([401] * 3, ["a", "b", "c"], [50] * 3)
    steady = samples([401] * 3, ["d"] * 3, [50] * 3)
    assert answers_differ(noisy, steady) is None


def test_timing_needs_separated_groups_and_a_real_gap() -> None:
    fast = samples([202] * 4, ["ok"] * 4, [20, 22, 25, 21])
    slow = samples([202] * 4, ["ok"] * 4, [320, 310, 330, 305])
    assert "known address take" in (timing_differs(slow, fast) or "")

    overlapping = samples([202] * 4, ["ok"] * 4, [20, 400, 25, 21])
    assert timing_differs(overlapping, fast) is None

    close = samples([202] * 4, ["ok"] * 4, [60, 62, 65, 61])
    assert timing_differs(close, fast) is None  # under the noise floor


def test_body_normalisation_hides_the_address_and_random_runs() -> None:
    one = normalise_body(
        '{"detail":"sent to ann@x.test","id":"AbCdEfGhIjKlMnOpQrStUv"}', "ann@x.test"
    )
    two = normalise_body(
        '{"detail":"sent to bo@x.test","id":"ZyXwVuTsRqPoNmLkJiHgFe"}', "bo@x.test"
    )
    assert one == two


def test_a_guessed_key_is_never_shown() -> None:
    key = "sec" + "ret"
    assert key not in describe_key(key)
    assert describe_key("") == "the empty string"


def test_the_same_refusal_for_both_addresses_proves_nothing() -> None:
    csrf = samples([403] * 3, ["CSRF failed"] * 3, [5] * 3)
    assert "HTTP 403" in (refused_alike("signup", csrf, csrf) or "")
    assert "HTTP 403" in (refused_alike("login", csrf, csrf) or "")

    # A wrong password is refused for both addresses by design: that is a real comparison.
    wrong = samples([401] * 3, ["invalid credentials"] * 3, [5] * 3)
    assert refused_alike("login", wrong, wrong) is None
    # A reset answered 400 for both never looked anyone up (the template is off).
    bad = samples([400] * 3, ["bad request"] * 3, [5] * 3)
    assert refused_alike("password reset", bad, bad) is not None
    accepted = samples([202] * 3, ["sent if it exists"] * 3, [5] * 3)
    assert refused_alike("password reset", accepted, accepted) is None
