"""Who may do what to a workflow: one matrix over every workflow endpoint.

alice owns the workflow; bob is on the team "researchers", which is granted one
permission at a time; charlie has no access; anonymous callers are not signed in.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SIMPLE_DEFINITION, client_for

# endpoint name -> (method, path template, body, the action it needs)
ENDPOINTS: dict[str, tuple[str, str, Any, str]] = {
    "detail": ("get", "/api/v1/workflows/{id}", None, "read"),
    "versions": ("get", "/api/v1/workflows/{id}/versions", None, "read"),
    "version": ("get", "/api/v1/workflows/{id}/versions/1", None, "read"),
    "export": ("get", "/api/v1/workflows/{id}/export?format=json", None, "read"),
    "permissions_get": ("get", "/api/v1/workflows/{id}/permissions", None, "read"),
    "update": ("put", "/api/v1/workflows/{id}", {**SIMPLE_DEFINITION, "name": "Edited"}, "modify"),
    "delete": ("delete", "/api/v1/workflows/{id}", None, "delete"),
    "permissions_set": ("post", "/api/v1/workflows/{id}/permissions", {"read": []}, "owner"),
}
GRANTS = ["read", "execute", "modify", "delete"]


def _call(client: Any, endpoint: str, workflow_id: str) -> Any:
    method, path, body, _ = ENDPOINTS[endpoint]
    return getattr(client, method)(path.format(id=workflow_id), body, format="json")


def _expected_for_grant(endpoint: str, grant: str) -> int:
    needed = ENDPOINTS[endpoint][3]
    if needed == "read" or needed == grant:
        return 204 if endpoint == "delete" else 200
    return 403  # bob can see the workflow (any grant implies read) but not act


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_gets_401(endpoint: str, anon_api: Any, alice_workflow: str) -> None:
    assert _call(anon_api, endpoint, alice_workflow).status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_user_without_access_gets_404(endpoint: str, charlie: Any, alice_workflow: str) -> None:
    response = _call(client_for(charlie), endpoint, alice_workflow)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_owner_may_do_everything(endpoint: str, alice_api: Any, alice_workflow: str) -> None:
    response = _call(alice_api, endpoint, alice_workflow)
    assert response.status_code == (204 if endpoint == "delete" else 200), response.content


@pytest.mark.parametrize("grant", GRANTS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_team_member_with_one_permission(
    endpoint: str, grant: str, alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    given = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/permissions",
        {grant: ["team:researchers"]},
        format="json",
    )
    assert given.status_code == 200, given.content
    response = _call(client_for(bob), endpoint, alice_workflow)
    assert response.status_code == _expected_for_grant(endpoint, grant), response.content


@pytest.mark.parametrize("grant", GRANTS)
def test_team_member_sees_exactly_the_granted_actions(
    grant: str, alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/permissions",
        {grant: ["team:researchers"]},
        format="json",
    )
    detail = client_for(bob).get(f"/api/v1/workflows/{alice_workflow}").json()
    assert detail["your_permissions"] == (["read"] if grant == "read" else ["read", grant])


def test_owner_holds_all_four_permissions(alice_api: Any, alice_workflow: str) -> None:
    body = alice_api.get(f"/api/v1/workflows/{alice_workflow}/permissions").json()
    assert body == {
        "read": ["alice"],
        "execute": ["alice"],
        "modify": ["alice"],
        "delete": ["alice"],
    }


def test_permissions_use_the_seed_shape_for_users_and_teams(
    alice_api: Any, bob: Any, charlie: Any, alice_workflow: str
) -> None:
    response = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/permissions",
        {
            "read": ["bob", "charlie", "team:researchers"],
            "execute": ["bob", "team:researchers"],
            "modify": ["bob"],
            "delete": [],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "read": ["alice", "bob", "charlie", "team:researchers"],
        "execute": ["alice", "bob", "team:researchers"],
        "modify": ["alice", "bob"],
        "delete": ["alice"],
    }


def test_revoking_a_grant_removes_access(alice_api: Any, charlie: Any, alice_workflow: str) -> None:
    url = f"/api/v1/workflows/{alice_workflow}/permissions"
    alice_api.post(url, {"read": ["charlie"]}, format="json")
    assert client_for(charlie).get(f"/api/v1/workflows/{alice_workflow}").status_code == 200
    alice_api.post(url, {"read": []}, format="json")
    assert client_for(charlie).get(f"/api/v1/workflows/{alice_workflow}").status_code == 404


def test_owner_cannot_lose_own_permissions(alice_api: Any, alice_workflow: str) -> None:
    url = f"/api/v1/workflows/{alice_workflow}/permissions"
    body = alice_api.post(
        url, {"read": [], "modify": [], "delete": [], "execute": []}, format="json"
    )
    assert body.json()["modify"] == ["alice"]


@pytest.mark.parametrize("name", ["nobody", "team:nosuchteam"])
def test_unknown_user_or_team_is_a_400_naming_it(
    name: str, alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    url = f"/api/v1/workflows/{alice_workflow}/permissions"
    response = alice_api.post(url, {"read": ["bob", name]}, format="json")
    assert response.status_code == 400
    assert name in response.json()["message"]
    # nothing half-saved: bob was not granted either
    assert alice_api.get(url).json()["read"] == ["alice"]


def test_unknown_action_is_a_400(alice_api: Any, alice_workflow: str) -> None:
    response = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/permissions", {"admin": ["bob"]}, format="json"
    )
    assert response.status_code == 400
    assert "admin" in response.json()["fields"]


def test_modify_grantee_cannot_change_permissions(
    alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    url = f"/api/v1/workflows/{alice_workflow}/permissions"
    alice_api.post(url, {"modify": ["bob"]}, format="json")
    response = client_for(bob).post(url, {"read": ["bob"]}, format="json")
    assert response.status_code == 403


def test_staff_may_change_permissions(
    django_user_model: Any, charlie: Any, alice_workflow: str
) -> None:
    staff = django_user_model.objects.create_user(
        "sam", password="x", is_staff=True, is_superuser=True
    )
    url = f"/api/v1/workflows/{alice_workflow}/permissions"
    response = client_for(staff).post(url, {"read": ["charlie"]}, format="json")
    assert response.status_code == 200
    assert "charlie" in response.json()["read"]


def test_list_shows_only_readable_workflows(
    alice_api: Any, bob: Any, charlie: Any, alice_workflow: str
) -> None:
    alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/permissions",
        {"read": ["team:researchers"]},
        format="json",
    )
    bob_ids = [w["id"] for w in client_for(bob).get("/api/v1/workflows").json()["results"]]
    charlie_ids = [w["id"] for w in client_for(charlie).get("/api/v1/workflows").json()["results"]]
    assert bob_ids == [alice_workflow]
    assert charlie_ids == []


def test_list_query_count_does_not_grow_with_page_size(
    alice: Any, django_assert_num_queries: Any, simple_definition: Any
) -> None:
    from workflows import services
    from workflows.definitions import definition_require_valid

    checked = definition_require_valid(simple_definition, user=alice)
    for _ in range(30):
        services.workflow_create(
            owner=alice, definition=checked.definition, document=checked.document
        )
    client = client_for(alice)
    client.get("/api/v1/workflows?limit=1")  # first use of the token records last_used_at
    # token lookup, count, page
    with django_assert_num_queries(3):
        small = client.get("/api/v1/workflows?limit=2")
    with django_assert_num_queries(3):
        large = client.get("/api/v1/workflows?limit=30")
    assert len(small.json()["results"]) == 2
    assert len(large.json()["results"]) == 30
