"""Guessing is limited: sign-in lockout (django-axes) and failed API keys per address.

alice has an account; the guesses come from one address (the test client's
``127.0.0.1``) unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import client_for
from workflows import ratelimit
from workflows.tokens import api_token_create

ALICE_PASSWORD = "alice-pw-123!"  # tests.conftest._user


def _sign_in(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_thirty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(
    alice: Any, settings: Any
) -> None:
    browser = Client()
    answers = [_sign_in(browser, "alice", f"guess-{n}").status_code for n in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert answers[limit:] == [429] * (30 - limit)

    right = _sign_in(browser, "alice", ALICE_PASSWORD)
    assert right.status_code == 429
    text = right.content.decode()
    assert "Sign-in locked" in text and "even with the right password" in text
    assert "_auth_user_id" not in browser.session  # not signed in


def test_a_lockout_is_for_that_username_only(alice: Any, bob: Any, settings: Any) -> None:
    browser = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(browser, "alice", f"guess-{n}")
    assert _sign_in(browser, "alice", ALICE_PASSWORD).status_code == 429
    signed_in = _sign_in(browser, "bob", "bob-pw-123!")
    assert signed_in.status_code == 302  # to the home page
    assert browser.session["_auth_user_id"] == str(bob.pk)


def test_a_successful_sign_in_resets_the_count(alice: Any, settings: Any) -> None:
    browser = Client()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(browser, "alice", f"guess-{n}")
    assert _sign_in(browser, "alice", ALICE_PASSWORD).status_code == 302
    browser.logout()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(browser, "alice", f"again-{n}").status_code == 200
    assert _sign_in(browser, "alice", ALICE_PASSWORD).status_code == 302


# --- API keys ------------------------------------------------------------------------------


@pytest.fixture
def fresh_key_limits(redis_server: Any) -> Iterator[None]:
    """The counts live in Redis, beyond the test's transaction: start and end clean."""
    for ip in ("127.0.0.1", "203.0.113.9"):
        ratelimit.bearer_failures_reset(ip)
    yield
    for ip in ("127.0.0.1", "203.0.113.9"):
        ratelimit.bearer_failures_reset(ip)


def _bearer(key: str, ip: str = "127.0.0.1") -> Any:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/v1/workflows")


def test_fifty_made_up_api_keys_get_a_429_before_the_end(
    alice: Any, settings: Any, fresh_key_limits: None
) -> None:
    answers = [_bearer(f"prsm_made-up-{n:04d}") for n in range(50)]
    codes = [a.status_code for a in answers]
    limit = settings.PRSM_API_KEY_FAILURE_LIMIT
    assert codes[:limit] == [401] * limit
    assert codes[limit:] == [429] * (50 - limit)
    refused = answers[-1]
    assert refused.json()["error"] == "throttled"
    assert "Too many invalid API keys" in refused.json()["message"]
    assert 1 <= int(refused["Retry-After"]) <= settings.PRSM_API_KEY_FAILURE_WINDOW_SECONDS + 1


def test_past_the_limit_a_real_key_is_refused_too(
    alice: Any, settings: Any, fresh_key_limits: None
) -> None:
    """Otherwise the guess that hits would still be told apart from the misses."""
    for n in range(settings.PRSM_API_KEY_FAILURE_LIMIT):
        _bearer(f"prsm_made-up-{n:04d}")
    key = api_token_create(user=alice, name="real").key
    assert _bearer(key).status_code == 429
    assert _bearer(key, ip="203.0.113.9").status_code == 200  # another address is not limited


def test_valid_keys_never_count(alice: Any, settings: Any, fresh_key_limits: None) -> None:
    api = client_for(alice)
    for _ in range(settings.PRSM_API_KEY_FAILURE_LIMIT + 5):
        assert api.get("/api/v1/workflows").status_code == 200
