"""``/api/v1/model-endpoints``: the Models page's endpoint form.

Permission matrix: the team's members (the creator and another member) manage a
team endpoint, an outsider gets 404, staff manage every one and alone may add a
shared one. The API key is write-only: stored encrypted, never in any response.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from executions.crypto import decrypt_json
from tests.conftest import client_for
from workflows.models import ModelEndpoint

URL = "/api/v1/model-endpoints"
KEY = "sk-very-secret-lab-key-0123456789"


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("stella", password="stella-pw-123!", is_staff=True)


def _body(team: Group | None, **extra: Any) -> dict[str, Any]:
    return {
        "name": "lab/llama-3",
        "base_url": "http://gpu-box:8000/v1",
        "remote_model": "meta-llama/Llama-3-8b",
        "api_key": KEY,
        "input_price_per_1k": "0.0015",
        "output_price_per_1k": "0.002",
        "team": team.pk if team else None,
        **extra,
    }


def _create(user: Any, team: Group | None, **extra: Any) -> Any:
    return client_for(user).post(URL, _body(team, **extra), format="json")


def _raw_row(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key_encrypted FROM workflows_modelendpoint WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_a_member_adds_a_team_endpoint_with_an_encrypted_key(db: Any, alice: Any, team: Group):
    response = _create(alice, team)
    assert response.status_code == 201, response.content
    body = response.json()
    assert KEY not in response.content.decode()
    assert "api_key" not in body
    assert body["api_key_set"] is True
    assert body["team"] == team.pk and body["team_name"] == "researchers"
    assert body["can_manage"] is True
    assert body["provider"] == "openai"
    assert body["input_price_per_1k"] == "0.001500"
    sealed = _raw_row(body["id"])
    assert KEY not in sealed and sealed.startswith("gAAAA")  # a Fernet token
    assert decrypt_json(sealed) == KEY


def test_the_key_is_in_no_response(db: Any, alice: Any, team: Group, staff: Any) -> None:
    pk = _create(alice, team).json()["id"]
    responses = [
        client_for(alice).get(URL),
        client_for(alice).get(f"{URL}/{pk}"),
        client_for(alice).patch(f"{URL}/{pk}", {"remote_model": "x"}, format="json"),
        client_for(staff).get(URL),
        client_for(alice).get("/api/v1/catalog/models"),
    ]
    for response in responses:
        assert response.status_code == 200, response.content
        assert KEY not in response.content.decode()
        assert "api_key_encrypted" not in response.content.decode()


def test_permission_matrix(
    db: Any, alice: Any, bob: Any, charlie: Any, staff: Any, team: Group
) -> None:
    pk = _create(alice, team).json()["id"]
    detail = f"{URL}/{pk}"
    # Another member of the team manages it too.
    assert client_for(bob).get(detail).status_code == 200
    assert client_for(bob).patch(detail, {"enabled": False}, format="json").status_code == 200
    # An outsider does not see it at all.
    assert client_for(charlie).get(detail).status_code == 404
    assert client_for(charlie).patch(detail, {"enabled": True}, format="json").status_code == 404
    assert client_for(charlie).delete(detail).status_code == 404
    assert client_for(charlie).get(URL).json() == []
    # Staff see and manage every one.
    assert [e["id"] for e in client_for(staff).get(URL).json()] == [pk]
    assert client_for(staff).patch(detail, {"enabled": True}, format="json").status_code == 200
    assert ModelEndpoint.objects.get(pk=pk).enabled is True
    # The owner deletes it.
    assert client_for(alice).delete(detail).status_code == 204
    assert not ModelEndpoint.objects.filter(pk=pk).exists()


def test_only_staff_add_and_change_shared_endpoints(
    db: Any, alice: Any, charlie: Any, staff: Any, team: Group
) -> None:
    refused = _create(alice, None)
    assert refused.status_code == 400
    assert "staff" in refused.json()["fields"]["team"][0]
    assert not ModelEndpoint.objects.exists()

    shared = _create(staff, None)
    assert shared.status_code == 201, shared.content
    pk = shared.json()["id"]
    # Everyone sees a shared endpoint, read-only.
    listed = client_for(charlie).get(URL).json()
    assert [(e["id"], e["can_manage"]) for e in listed] == [(pk, False)]
    for response in (
        client_for(alice).patch(f"{URL}/{pk}", {"enabled": False}, format="json"),
        client_for(alice).delete(f"{URL}/{pk}"),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "permission_denied"
    assert ModelEndpoint.objects.get(pk=pk).enabled is True
    # Nor may a member move their team's endpoint to shared.
    mine = _create(alice, team, name="lab/mine").json()["id"]
    moved = client_for(alice).patch(f"{URL}/{mine}", {"team": None}, format="json")
    assert moved.status_code == 400
    assert ModelEndpoint.objects.get(pk=mine).team_id == team.pk


def test_a_team_one_is_not_on_is_refused(db: Any, alice: Any, team: Group) -> None:
    other = Group.objects.create(name="other-lab")
    response = _create(alice, other)
    assert response.status_code == 400
    assert "team" in response.json()["fields"]
    assert not ModelEndpoint.objects.exists()


def test_the_key_is_kept_replaced_or_removed(db: Any, alice: Any, team: Group) -> None:
    pk = _create(alice, team).json()["id"]
    detail = f"{URL}/{pk}"
    kept = client_for(alice).patch(detail, {"base_url": "http://gpu-box:9000/v1"}, format="json")
    assert kept.json()["api_key_set"] is True
    assert decrypt_json(_raw_row(pk)) == KEY
    replaced = client_for(alice).patch(detail, {"api_key": "sk-new"}, format="json")
    assert replaced.json()["api_key_set"] is True
    assert decrypt_json(_raw_row(pk)) == "sk-new"
    removed = client_for(alice).patch(detail, {"api_key": ""}, format="json")
    assert removed.json()["api_key_set"] is False
    assert _raw_row(pk) == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "has space"}, "name"),
        ({"name": "builtin/mine"}, "name"),
        ({"name": ""}, "name"),
        ({"base_url": "ftp://x/v1"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"input_price_per_1k": "-1"}, "input_price_per_1k"),
        ({"output_price_per_1k": "cheap"}, "output_price_per_1k"),
        ({"team": "researchers"}, "team"),
        ({"credentials_ref": "OPENAI_API_KEY"}, "credentials_ref"),
        ({"api_key": ["sk-1"]}, "api_key"),
    ],
)
def test_bad_input_is_a_json_400_and_saves_nothing(
    db: Any, alice: Any, team: Group, change: dict[str, Any], field: str
) -> None:
    response = client_for(alice).post(URL, {**_body(team), **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert not ModelEndpoint.objects.exists()


def test_a_name_in_use_is_a_400(db: Any, alice: Any, team: Group) -> None:
    assert _create(alice, team).status_code == 201
    again = _create(alice, team)
    assert again.status_code == 400
    assert "already" in again.json()["fields"]["name"][0]
    assert ModelEndpoint.objects.count() == 1


def test_the_endpoint_is_in_the_callers_catalog(db: Any, alice: Any, team: Group) -> None:
    _create(alice, team)
    names = {m["name"]: m for m in client_for(alice).get("/api/v1/catalog/models").json()}
    assert "lab/llama-3" in names
    assert json.dumps(names["lab/llama-3"]).find(KEY) == -1


def test_anonymous_is_refused(db: Any) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code in (401, 403)


def test_the_admin_shows_only_that_a_key_is_stored(
    db: Any, alice: Any, team: Group, django_user_model: Any, client: Any
) -> None:
    pk = _create(alice, team).json()["id"]
    admin = django_user_model.objects.create_superuser("root", password="root-pw-123!")
    client.force_login(admin)
    for url in ("/admin/workflows/modelendpoint/", f"/admin/workflows/modelendpoint/{pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert KEY not in page and _raw_row(pk) not in page
        assert "API key stored" in page
