"""Teams and user search.

alice creates the team "lab" and manages it; bob is a plain member of it;
charlie is in no team of hers; anonymous callers are not signed in.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for


@pytest.fixture
def lab(alice_api: Any, bob: Any) -> int:
    created = alice_api.post("/api/v1/teams", {"name": "lab"}, format="json")
    assert created.status_code == 201, created.content
    team_id = created.json()["id"]
    added = alice_api.post(f"/api/v1/teams/{team_id}/members", {"username": "bob"}, format="json")
    assert added.status_code == 200, added.content
    return team_id


def _members(body: dict[str, Any]) -> dict[str, bool]:
    return {m["username"]: m["is_manager"] for m in body["members"]}


# endpoint -> (method, path, body)
ENDPOINTS: dict[str, tuple[str, str, Any]] = {
    "detail": ("get", "/api/v1/teams/{id}", None),
    "add": ("post", "/api/v1/teams/{id}/members", {"username": "charlie"}),
    "remove": ("delete", "/api/v1/teams/{id}/members/bob", None),
}


def _call(client: Any, endpoint: str, team_id: int) -> Any:
    method, path, body = ENDPOINTS[endpoint]
    return getattr(client, method)(path.format(id=team_id), body, format="json")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_gets_401(endpoint: str, anon_api: Any, lab: int) -> None:
    assert _call(anon_api, endpoint, lab).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/teams", "/api/v1/users?search=al"])
def test_anonymous_gets_401_on_lists(path: str, anon_api: Any) -> None:
    assert anon_api.get(path).status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_member_gets_404(endpoint: str, charlie: Any, lab: int) -> None:
    response = _call(client_for(charlie), endpoint, lab)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("endpoint", ["add", "remove"])
def test_plain_member_may_not_change_members(endpoint: str, bob: Any, charlie: Any, lab: int):
    method, path, body = ENDPOINTS[endpoint]
    if endpoint == "remove":
        path = "/api/v1/teams/{id}/members/alice"
    response = getattr(client_for(bob), method)(path.format(id=lab), body, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"


def test_creator_is_a_manager_and_sees_the_team(alice_api: Any, lab: int) -> None:
    body = alice_api.get(f"/api/v1/teams/{lab}").json()
    assert body["name"] == "lab"
    assert body["share_as"] == "team:lab"
    assert body["can_manage"] is True
    assert _members(body) == {"alice": True, "bob": False}


def test_member_sees_the_team_read_only(bob: Any, lab: int) -> None:
    body = client_for(bob).get(f"/api/v1/teams/{lab}").json()
    assert body["can_manage"] is False
    assert _members(body) == {"alice": True, "bob": False}


def test_users_see_only_their_teams(alice_api: Any, bob: Any, charlie: Any, lab: int) -> None:
    # bob is also in the conftest team "researchers" (as is alice).
    assert [t["name"] for t in client_for(bob).get("/api/v1/teams").json()] == [
        "lab",
        "researchers",
    ]
    assert client_for(charlie).get("/api/v1/teams").json() == []


def test_manager_adds_a_member_as_manager(alice_api: Any, charlie: Any, lab: int) -> None:
    response = alice_api.post(
        f"/api/v1/teams/{lab}/members", {"username": "charlie", "is_manager": True}, format="json"
    )
    assert response.status_code == 200
    assert _members(response.json())["charlie"] is True
    charlie_view = client_for(charlie).get(f"/api/v1/teams/{lab}").json()
    assert charlie_view["can_manage"] is True


def test_manager_promotes_an_existing_member(alice_api: Any, bob: Any, lab: int) -> None:
    response = alice_api.post(
        f"/api/v1/teams/{lab}/members", {"username": "bob", "is_manager": True}, format="json"
    )
    assert _members(response.json()) == {"alice": True, "bob": True}
    # With a second manager, the creator may now leave.
    assert alice_api.delete(f"/api/v1/teams/{lab}/members/alice").status_code == 204
    assert _members(client_for(bob).get(f"/api/v1/teams/{lab}").json()) == {"bob": True}


def test_adding_twice_is_harmless(alice_api: Any, lab: int) -> None:
    response = alice_api.post(f"/api/v1/teams/{lab}/members", {"username": "bob"}, format="json")
    assert response.status_code == 200
    assert _members(response.json()) == {"alice": True, "bob": False}


def test_manager_removes_a_member(alice_api: Any, bob: Any, lab: int) -> None:
    response = alice_api.delete(f"/api/v1/teams/{lab}/members/bob")
    assert response.status_code == 200
    assert _members(response.json()) == {"alice": True}
    assert client_for(bob).get(f"/api/v1/teams/{lab}").status_code == 404


def test_member_may_leave(bob: Any, lab: int) -> None:
    assert client_for(bob).delete(f"/api/v1/teams/{lab}/members/bob").status_code == 204
    assert client_for(bob).get(f"/api/v1/teams/{lab}").status_code == 404


def test_last_manager_cannot_leave_a_team_with_members(alice_api: Any, lab: int) -> None:
    response = alice_api.delete(f"/api/v1/teams/{lab}/members/alice")
    assert response.status_code == 400
    assert "last manager" in response.json()["message"]


def test_new_team_can_be_shared_with(alice_api: Any, bob: Any, lab: int, alice_workflow: str):
    given = alice_api.post(
        f"/api/v1/workflows/{alice_workflow}/permissions", {"read": ["team:lab"]}, format="json"
    )
    assert given.status_code == 200, given.content
    assert client_for(bob).get(f"/api/v1/workflows/{alice_workflow}").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "x" * 151}, "name"),
        ({"name": "LAB"}, "name"),  # taken, whatever the case
        ({"name": "researchers"}, "name"),  # taken by a team alice is in
    ],
)
def test_bad_team_names_are_400(alice_api: Any, lab: int, body: dict[str, Any], field: str):
    response = alice_api.post("/api/v1/teams", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/teams/{id}/members", {"username": "nobody"}),
        ("post", "/api/v1/teams/{id}/members", {}),
        ("post", "/api/v1/teams/{id}/members", {"username": "bob", "is_manager": "perhaps"}),
        ("delete", "/api/v1/teams/{id}/members/charlie", None),  # not a member
        ("delete", "/api/v1/teams/{id}/members/nobody", None),
    ],
)
def test_bad_member_requests_are_400(
    alice_api: Any, charlie: Any, lab: int, method: str, path: str, body: Any
) -> None:
    response = getattr(alice_api, method)(path.format(id=lab), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["message"]


def test_unknown_team_is_404(alice_api: Any) -> None:
    assert alice_api.get("/api/v1/teams/999999").status_code == 404


def test_team_list_query_count_is_flat(
    alice: Any, alice_api: Any, django_assert_max_num_queries: Any
) -> None:
    alice_api.post("/api/v1/teams", {"name": "one"}, format="json")
    with django_assert_max_num_queries(10) as few:
        alice_api.get("/api/v1/teams")
    baseline = len(few)
    for index in range(8):
        alice_api.post("/api/v1/teams", {"name": f"team {index}"}, format="json")
    with django_assert_max_num_queries(baseline):
        response = alice_api.get("/api/v1/teams")
    assert len(response.json()) == 10  # 9 created + "researchers"


# --- user search --------------------------------------------------------------------


def test_user_search_matches_username_and_names(
    alice_api: Any, django_user_model: Any, charlie: Any
) -> None:
    django_user_model.objects.create_user("dana", first_name="Charlotte", last_name="Ng")
    django_user_model.objects.create_user("eve", last_name="Charleston", is_active=False)
    body = alice_api.get("/api/v1/users", {"search": "char"}).json()
    assert [u["username"] for u in body] == ["charlie", "dana"]
    assert body[1] == {"username": "dana", "first_name": "Charlotte", "last_name": "Ng"}


def test_user_search_puts_the_exact_match_first_and_caps_results(
    alice_api: Any, django_user_model: Any
) -> None:
    for index in range(12):
        django_user_model.objects.create_user(f"bobby{index:02d}")
    django_user_model.objects.create_user("bo")
    body = alice_api.get("/api/v1/users", {"search": "bo"}).json()
    assert len(body) == 10
    assert body[0]["username"] == "bo"


@pytest.mark.parametrize("query", [{}, {"search": ""}, {"search": "a"}, {"search": " b "}])
def test_user_search_needs_two_characters(alice_api: Any, query: dict[str, str]) -> None:
    response = alice_api.get("/api/v1/users", query)
    assert response.status_code == 400
    assert "at least 2 characters" in response.json()["message"]
