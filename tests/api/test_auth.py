"""Bearer API tokens and browser sessions."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from workflows.models import ApiToken
from workflows.tokens import api_token_create


def _bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_valid_token_authenticates(alice: Any) -> None:
    key = api_token_create(user=alice, name="laptop").key
    assert _bearer(key).get("/api/v1/workflows").status_code == 200


def test_token_is_stored_hashed(alice: Any) -> None:
    new = api_token_create(user=alice, name="laptop")
    stored = ApiToken.objects.get(pk=new.token.pk)
    assert new.key not in (stored.key_hash, stored.prefix)
    assert new.key.startswith(stored.prefix)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer prsm_wrong", "Bearer ünï"])
def test_bad_tokens_are_401(db: Any, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/workflows")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_expired_token_is_401(alice: Any) -> None:
    key = api_token_create(user=alice, name="old", expires_at=timezone.now() - timedelta(1)).key
    assert _bearer(key).get("/api/v1/workflows").status_code == 401


def test_revoked_token_is_401(alice: Any) -> None:
    api = _bearer(api_token_create(user=alice, name="a").key)
    other = api_token_create(user=alice, name="b")
    assert api.delete(f"/api/v1/tokens/{other.token.pk}").status_code == 204
    assert _bearer(other.key).get("/api/v1/workflows").status_code == 401


def test_tokens_api_creates_shows_key_once_and_lists(alice: Any) -> None:
    api = _bearer(api_token_create(user=alice, name="first").key)
    created = api.post("/api/v1/tokens", {"name": "ci", "expires_in_days": 30}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    listed = api.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} == {"first", "ci"}
    assert all("key" not in t for t in listed)
    assert _bearer(key).get("/api/v1/workflows").status_code == 200


def test_cannot_revoke_someone_elses_token(alice: Any, charlie: Any) -> None:
    theirs = api_token_create(user=alice, name="a")
    api = _bearer(api_token_create(user=charlie, name="c").key)
    assert api.delete(f"/api/v1/tokens/{theirs.token.pk}").status_code == 404


def test_management_command_prints_a_working_key(alice: Any) -> None:
    out = StringIO()
    call_command("create_api_token", "alice", "--name", "script", stdout=out)
    key = out.getvalue().strip()
    assert _bearer(key).get("/api/v1/workflows").status_code == 200


def test_management_command_unknown_user(db: Any) -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody")


def test_session_sign_in_reaches_api_and_home(client: Any, alice: Any) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-pw-123!"})
    assert response.status_code == 302
    assert client.get("/api/v1/workflows").status_code == 200
    assert b"Workflows" in client.get("/").content


def test_home_requires_sign_in(client: Any, db: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_setup_demo_prints_credentials_once(db: Any, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("setup_demo", stdout=first)
    call_command("setup_demo", stdout=second)
    assert "password:" in first.getvalue()
    assert "password:" not in second.getvalue()
    key = first.getvalue().split("API key:")[1].split()[0]
    demo = get_user_model().objects.get(username="demo")
    assert not demo.is_staff and not demo.is_superuser
    assert "manage.py createsuperuser" in first.getvalue()
    assert _bearer(key).get("/api/v1/workflows").status_code == 200
