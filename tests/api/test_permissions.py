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


# --- staff: read every workflow and manage its sharing (audited); act only as granted ----

STAFF_EXPECTED = {
    "detail": 200,
    "versions": 200,
    "version": 200,
    "export": 200,
    "permissions_get": 200,
    "permissions_set": 200,
    "update": 403,
    "delete": 403,
}


@pytest.fixture
def sam(django_user_model: Any) -> Any:
    """Staff, not a superuser, with no grant on alice's workflow."""
    return django_user_model.objects.create_user("sam", password="sam-pw-123!", is_staff=True)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_staff_read_and_share_any_workflow_but_do_not_change_it(
    endpoint: str, sam: Any, alice_workflow: str
) -> None:
    response = _call(client_for(sam), endpoint, alice_workflow)
    assert response.status_code == STAFF_EXPECTED[endpoint], response.content


def test_staff_may_change_permissions_and_it_is_audited(
    sam: Any, alice: Any, charlie: Any, alice_workflow: str
) -> None:
    url = f"/api/v1/workflows/{alice_workflow}/permissions"
    response = client_for(sam).post(url, {"read": ["charlie"]}, format="json")
    assert response.status_code == 200, response.content
    assert "charlie" in response.json()["read"]
    assert client_for(charlie).get(f"/api/v1/workflows/{alice_workflow}").status_code == 200
    entries = client_for(alice).get(f"/api/v1/audit?object={alice_workflow}").json()["results"]
    shared = [e for e in entries if e["action"] == "shared"]
    assert [e["actor"] for e in shared] == ["sam"]


def test_staff_cannot_execute_another_users_workflow(sam: Any, alice_workflow: str) -> None:
    response = client_for(sam).post(
        f"/api/v1/workflows/{alice_workflow}/execute", {"inputs": {"text": "x"}}, format="json"
    )
    assert response.status_code == 403, response.content
    detail = client_for(sam).get(f"/api/v1/workflows/{alice_workflow}").json()
    assert detail["your_permissions"] == ["read"]


def test_staff_list_every_workflow(sam: Any, alice_workflow: str) -> None:
    ids = [w["id"] for w in client_for(sam).get("/api/v1/workflows").json()["results"]]
    assert ids == [alice_workflow]


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
    from workflows.definition_checks import definition_require_valid

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


# --- model endpoints: a team's endpoint serves its members, whoever owns the workflow ----
#
# "lab-private/model-x" belongs to the team "lab": alice (who owns the workflow) and bob
# are on it, charlie is not. alice grants bob and charlie execute on her workflow.

PRIVATE_MODEL = "lab-private/model-x"
MODEL_PEOPLE = ["alice", "bob", "charlie"]
MAY_USE = {"alice": True, "bob": True, "charlie": False}


@pytest.fixture
def lab_model(alice: Any, bob: Any) -> Any:
    from django.contrib.auth.models import Group

    from workflows.models import ModelEndpoint

    lab = Group.objects.create(name="lab")
    alice.groups.add(lab)
    bob.groups.add(lab)
    return ModelEndpoint.objects.create(
        name=PRIVATE_MODEL,
        provider="builtin",
        remote_model="builtin/yake-keywords",
        team=lab,
        input_price_per_1k=10,
        output_price_per_1k=20,
    )


def _private_definition() -> dict[str, Any]:
    return {
        "name": "Uses the lab's model",
        "steps": [
            {
                "id": "tag",
                "type": "inference",
                "model": PRIVATE_MODEL,
                "input": "${workflow.input.text}",
            }
        ],
        "input_schema": {"text": {"type": "string"}},
    }


@pytest.fixture
def shared_private_workflow(alice_api: Any, lab_model: Any) -> str:
    response = alice_api.post("/api/v1/workflows", _private_definition(), format="json")
    assert response.status_code == 201, response.content
    workflow_id = response.json()["id"]
    granted = alice_api.post(
        f"/api/v1/workflows/{workflow_id}/permissions",
        {"execute": ["bob", "charlie"]},
        format="json",
    )
    assert granted.status_code == 200, granted.content
    return workflow_id


def _person(name: str, alice: Any, bob: Any, charlie: Any) -> Any:
    return {"alice": alice, "bob": bob, "charlie": charlie}[name]


@pytest.mark.parametrize("name", MODEL_PEOPLE)
def test_private_model_in_the_catalog_only_for_its_team(
    name: str, alice: Any, bob: Any, charlie: Any, lab_model: Any
) -> None:
    client = client_for(_person(name, alice, bob, charlie))
    listed = {m["name"] for m in client.get("/api/v1/catalog/models").json()}
    assert (PRIVATE_MODEL in listed) is MAY_USE[name]


@pytest.mark.parametrize("name", MODEL_PEOPLE)
def test_private_model_validates_only_for_its_team(
    name: str, alice: Any, bob: Any, charlie: Any, lab_model: Any
) -> None:
    client = client_for(_person(name, alice, bob, charlie))
    body = client.post(
        "/api/v1/workflows/validate", {"workflow_definition": _private_definition()}, format="json"
    ).json()
    unknown = [w for w in body["warnings"] if w["code"] == "unknown_model"]
    assert bool(unknown) is not MAY_USE[name], body


@pytest.mark.parametrize("name", MODEL_PEOPLE)
def test_private_model_executes_only_for_its_team(
    name: str, alice: Any, bob: Any, charlie: Any, shared_private_workflow: str
) -> None:
    client = client_for(_person(name, alice, bob, charlie))
    response = client.post(
        f"/api/v1/workflows/{shared_private_workflow}/execute",
        {"inputs": {"text": "alpha beta alpha"}},
        format="json",
    )
    if MAY_USE[name]:
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "model_not_permitted"
    assert PRIVATE_MODEL in body["message"]
    assert body["errors"] == [
        {"step": "tag", "field": "steps[0].model", "message": body["errors"][0]["message"]}
    ]


def test_outsider_cannot_reach_a_private_model_through_a_fallback(
    charlie: Any, lab_model: Any
) -> None:
    definition = {
        "name": "Falls back to the lab's model",
        "steps": [
            {"id": "tag", "type": "inference", "model": "builtin/yake-keywords", "input": "x"}
        ],
        "error_handling": {"fallback_models": {"builtin/yake-keywords": PRIVATE_MODEL}},
    }
    client = client_for(charlie)
    created = client.post("/api/v1/workflows", definition, format="json")
    assert created.status_code == 201, created.content
    response = client.post(
        f"/api/v1/workflows/{created.json()['id']}/execute", {"inputs": {}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == (
        "error_handling.fallback_models.builtin/yake-keywords"
    )


@pytest.mark.parametrize("name", MODEL_PEOPLE)
def test_private_model_runs_only_for_its_team_at_run_time(
    name: str, alice: Any, bob: Any, charlie: Any, lab_model: Any, shared_private_workflow: str
) -> None:
    """The worker resolves the model for the run's starter, whatever execute checked.

    Everyone is on the team when the run starts; then charlie leaves it. The step
    is run in this process by the real ``run_step`` task (the run's rows are not
    committed, so no worker process sees them).
    """
    from executions.models import StepRun
    from executions.steps import openai_compat
    from executions.tasks import run_step

    person = _person(name, alice, bob, charlie)
    person.groups.add(lab_model.team)
    started = client_for(person).post(
        f"/api/v1/workflows/{shared_private_workflow}/execute",
        {"inputs": {"text": "alpha beta alpha gamma"}},
        format="json",
    )
    assert started.status_code == 201, started.content
    charlie.groups.remove(lab_model.team)
    openai_compat.clear_endpoint_cache()

    run = StepRun.objects.get(execution__public_id=started.json()["execution_id"], key="tag")
    run_step.apply(args=[run.pk, run.execution_id])
    run.refresh_from_db()

    if MAY_USE[name]:
        assert run.status == "completed", run.error_message
        assert run.model_used == PRIVATE_MODEL
        assert run.result and all(isinstance(k, str) for k in run.result), run.result
        assert any("alpha" in keyword for keyword in run.result), run.result  # YAKE's answer
        assert run.cost > 0  # the team's price
    else:
        assert run.status == "failed"
        assert run.error_type == "model_unavailable"
        assert PRIVATE_MODEL in run.error_message
        assert run.result is None
        assert run.cost == 0
