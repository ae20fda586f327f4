"""The server-rendered pages through Django's test client.

alice owns the workflow; bob is on her team "researchers" and gets one grant at
a time; charlie has no access; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from executions.models import Execution
from tests.conftest import SIMPLE_DEFINITION
from workflows.models import Workflow

WORKFLOW_PAGES = ["", "runs/", "versions/", "sharing/", "analytics/"]


def browser_for(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def island_props(response: Any, root_id: str) -> dict[str, Any]:
    match = re.search(rf'id="{root_id}" data-props="([^"]*)"', response.content.decode())
    assert match, f"#{root_id} is not on the page"
    return json.loads(html.unescape(match.group(1)))


def grant(alice_api: Any, workflow_id: str, **grants: list[str]) -> None:
    response = alice_api.post(f"/api/v1/workflows/{workflow_id}/permissions", grants, format="json")
    assert response.status_code == 200, response.content


def make_workflow(api: Any, name: str, description: str = "") -> str:
    body = {**SIMPLE_DEFINITION, "name": name, "description": description}
    response = api.post("/api/v1/workflows", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def make_run(workflow_id: str, user: Any, status: str = "completed", **extra: Any) -> Execution:
    workflow = Workflow.objects.get(public_id=workflow_id)
    started = timezone.now() - timedelta(seconds=90)
    return Execution.objects.create(
        workflow=workflow,
        version=workflow.published_version(),
        definition=workflow.published_version().definition,
        created_by=user,
        status=status,
        started_at=started,
        completed_at=started + timedelta(seconds=75) if status != "running" else None,
        **extra,
    )


# --- who may open what --------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/workflows/new/", "/templates/", "/settings/tokens/", "/teams/"]
)
def test_anonymous_visitor_is_sent_to_sign_in(db: Any, path: str) -> None:
    response = browser_for(None).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("tab", WORKFLOW_PAGES)
def test_anonymous_visitor_of_a_workflow_is_sent_to_sign_in(tab: str, alice_workflow: str) -> None:
    response = browser_for(None).get(f"/workflows/{alice_workflow}/{tab}")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("tab", WORKFLOW_PAGES)
def test_user_without_access_gets_404(tab: str, charlie: Any, alice_workflow: str) -> None:
    response = browser_for(charlie).get(f"/workflows/{alice_workflow}/{tab}")
    assert response.status_code == 404


def test_run_of_another_workflow_is_404(alice: Any, alice_api: Any, alice_workflow: str) -> None:
    other = make_workflow(alice_api, "Other")
    run = make_run(other, alice)
    response = browser_for(alice).get(f"/workflows/{alice_workflow}/runs/{run.public_id}/")
    assert response.status_code == 404


@pytest.mark.parametrize("tab", WORKFLOW_PAGES)
def test_owner_sees_every_tab(tab: str, alice: Any, alice_workflow: str) -> None:
    response = browser_for(alice).get(f"/workflows/{alice_workflow}/{tab}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Simple" in body and 'id="run-launcher-root"' in body
    assert body.count('aria-current="page"') == 1


@pytest.mark.parametrize("tab", WORKFLOW_PAGES)
def test_reader_sees_every_tab(tab: str, alice_api: Any, bob: Any, alice_workflow: str) -> None:
    grant(alice_api, alice_workflow, read=["bob"])
    assert browser_for(bob).get(f"/workflows/{alice_workflow}/{tab}").status_code == 200


# --- the island props ---------------------------------------------------------------


def test_owner_editor_props_allow_everything(alice: Any, alice_workflow: str) -> None:
    response = browser_for(alice).get(f"/workflows/{alice_workflow}/")
    assert island_props(response, "editor-root") == {
        "workflowId": alice_workflow,
        "canModify": True,
        "canExecute": True,
        "canDelete": True,
        "userId": alice.pk,
    }
    assert island_props(response, "run-launcher-root") == {
        "workflowId": alice_workflow,
        "canExecute": True,
    }


def test_reader_props_allow_nothing_but_reading(
    alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    grant(alice_api, alice_workflow, read=["team:researchers"])
    client = browser_for(bob)
    editor = island_props(client.get(f"/workflows/{alice_workflow}/"), "editor-root")
    assert editor == {
        "workflowId": alice_workflow,
        "canModify": False,
        "canExecute": False,
        "canDelete": False,
        "userId": bob.pk,
    }
    versions = island_props(client.get(f"/workflows/{alice_workflow}/versions/"), "versions-root")
    assert versions == {"workflowId": alice_workflow, "canModify": False}
    sharing = island_props(client.get(f"/workflows/{alice_workflow}/sharing/"), "sharing-root")
    assert sharing == {"workflowId": alice_workflow, "isOwner": False, "owner": "alice"}


def test_executor_may_run_but_not_edit(alice_api: Any, bob: Any, alice_workflow: str) -> None:
    grant(alice_api, alice_workflow, execute=["bob"])
    response = browser_for(bob).get(f"/workflows/{alice_workflow}/")
    assert island_props(response, "editor-root")["canExecute"] is True
    assert island_props(response, "editor-root")["canModify"] is False
    assert island_props(response, "run-launcher-root")["canExecute"] is True


def test_modifier_may_edit_versions(alice_api: Any, bob: Any, alice_workflow: str) -> None:
    grant(alice_api, alice_workflow, modify=["bob"])
    response = browser_for(bob).get(f"/workflows/{alice_workflow}/versions/")
    assert island_props(response, "versions-root")["canModify"] is True
    assert island_props(response, "run-launcher-root")["canExecute"] is False


def test_owner_sharing_props(alice: Any, alice_workflow: str) -> None:
    response = browser_for(alice).get(f"/workflows/{alice_workflow}/sharing/")
    assert island_props(response, "sharing-root") == {
        "workflowId": alice_workflow,
        "isOwner": True,
        "owner": "alice",
    }


def test_new_workflow_page_mounts_an_empty_editor(alice: Any) -> None:
    response = browser_for(alice).get("/workflows/new/")
    assert island_props(response, "editor-root") == {
        "workflowId": None,
        "canModify": True,
        "canExecute": False,
        "canDelete": False,
        "userId": alice.pk,
    }


def test_run_detail_props(alice: Any, alice_api: Any, alice_workflow: str, bob: Any) -> None:
    run = make_run(alice_workflow, alice)
    response = browser_for(alice).get(f"/workflows/{alice_workflow}/runs/{run.public_id}/")
    assert island_props(response, "run-root") == {
        "workflowId": alice_workflow,
        "executionId": run.public_id,
        "canExecute": True,
    }
    grant(alice_api, alice_workflow, read=["bob"])
    response = browser_for(bob).get(f"/workflows/{alice_workflow}/runs/{run.public_id}/")
    assert island_props(response, "run-root")["canExecute"] is False


def test_settings_islands_are_mounted(alice: Any) -> None:
    client = browser_for(alice)
    assert island_props(client.get("/templates/"), "gallery-root") == {}
    assert island_props(client.get("/settings/tokens/"), "tokens-root") == {}
    assert island_props(client.get("/teams/"), "teams-root") == {"username": "alice"}


# --- the workflows list -------------------------------------------------------------


def _names(response: Any) -> list[str]:
    return [wf.name for wf in response.context["page"].object_list]


def test_list_searches_name_and_description(alice: Any, alice_api: Any) -> None:
    make_workflow(alice_api, "Protein folding")
    make_workflow(alice_api, "Other", description="about proteins")
    make_workflow(alice_api, "Unrelated")
    response = browser_for(alice).get("/", {"q": "protein", "sort": "name"})
    assert _names(response) == ["Other", "Protein folding"]


def test_list_filters_by_status_and_shows_the_last_run(alice: Any, alice_api: Any) -> None:
    failed = make_workflow(alice_api, "Broken")
    make_workflow(alice_api, "Fresh")
    run = make_run(failed, alice, status="failed")
    response = browser_for(alice).get("/", {"status": "failed"})
    assert _names(response) == ["Broken"]
    row = response.context["page"].object_list[0]
    assert (row.last_run_id, row.last_run_status) == (run.public_id, "failed")
    assert f"/workflows/{failed}/runs/{run.public_id}/" in response.content.decode()
    assert _names(browser_for(alice).get("/", {"status": "created"})) == ["Fresh"]


def test_list_sorts_by_name_and_creation(alice: Any, alice_api: Any) -> None:
    for name in ["Beta", "Alpha", "Gamma"]:
        make_workflow(alice_api, name)
    client = browser_for(alice)
    assert _names(client.get("/", {"sort": "name"})) == ["Alpha", "Beta", "Gamma"]
    assert _names(client.get("/", {"sort": "-name"})) == ["Gamma", "Beta", "Alpha"]
    assert _names(client.get("/", {"sort": "created_at"})) == ["Beta", "Alpha", "Gamma"]
    assert _names(client.get("/", {"sort": "-created_at"})) == ["Gamma", "Alpha", "Beta"]


def test_unknown_filters_fall_back_to_defaults(alice: Any, alice_workflow: str) -> None:
    response = browser_for(alice).get("/", {"sort": "password", "status": "nope", "page": "x"})
    assert response.status_code == 200
    assert _names(response) == ["Simple"]


def test_shared_with_me_lists_only_others_workflows(
    alice_api: Any, alice_workflow: str, bob: Any, api_for: Any
) -> None:
    make_workflow(api_for(bob), "Bob's own")
    grant(alice_api, alice_workflow, read=["bob"])
    client = browser_for(bob)
    assert sorted(_names(client.get("/"))) == ["Bob's own", "Simple"]
    shared = client.get("/", {"shared": "1"})
    assert _names(shared) == ["Simple"]
    assert "shared" in shared.content.decode()


def test_empty_list_says_what_to_do(charlie: Any) -> None:
    body = browser_for(charlie).get("/").content.decode()
    assert "No workflows yet" in body
    assert 'href="/templates/"' in body and 'href="/workflows/new/"' in body


def test_list_query_count_does_not_grow_with_rows(
    alice: Any, alice_api: Any, django_assert_max_num_queries: Any
) -> None:
    client = browser_for(alice)
    first = make_workflow(alice_api, "First")
    make_run(first, alice)
    client.get("/")  # warm the content-type and permission caches
    with django_assert_max_num_queries(6) as few:
        client.get("/")
    baseline = len(few)  # read now: the next request resets the query log
    for index in range(12):
        wf = make_workflow(alice_api, f"Workflow {index}")
        make_run(wf, alice, status="failed")
    with django_assert_max_num_queries(baseline):
        response = client.get("/")
    assert len(response.context["page"].object_list) == 13


# --- the runs tab -------------------------------------------------------------------


def test_runs_tab_lists_filters_and_links(alice: Any, alice_workflow: str) -> None:
    done = make_run(alice_workflow, alice, status="completed", total_cost="0.0125")
    failed = make_run(alice_workflow, alice, status="failed", is_test=True)
    client = browser_for(alice)
    body = client.get(f"/workflows/{alice_workflow}/runs/").content.decode()
    assert f"/workflows/{alice_workflow}/runs/{done.public_id}/" in body
    assert f"/workflows/{alice_workflow}/runs/{failed.public_id}/" in body
    assert "$0.0125" in body and "Test run" in body and "1 min 15 s" in body
    only_failed = client.get(f"/workflows/{alice_workflow}/runs/", {"status": "failed"})
    assert [r.public_id for r in only_failed.context["page"].object_list] == [failed.public_id]


def test_runs_tab_paginates(alice: Any, alice_workflow: str) -> None:
    for _ in range(27):
        make_run(alice_workflow, alice)
    client = browser_for(alice)
    first = client.get(f"/workflows/{alice_workflow}/runs/")
    assert len(first.context["page"].object_list) == 25
    second = client.get(f"/workflows/{alice_workflow}/runs/", {"page": 2})
    assert len(second.context["page"].object_list) == 2


def test_runs_tab_empty_state(alice: Any, alice_workflow: str) -> None:
    body = browser_for(alice).get(f"/workflows/{alice_workflow}/runs/").content.decode()
    assert "No runs yet" in body


def test_analytics_tab_mounts_the_analytics_island(alice: Any, alice_workflow: str) -> None:
    body = browser_for(alice).get(f"/workflows/{alice_workflow}/analytics/").content.decode()
    assert 'id="analytics-root"' in body
    assert "Analytics arrive with the observability work" not in body


# --- signing in and out -------------------------------------------------------------


def test_sign_in_page_has_the_form(db: Any) -> None:
    body = Client().get("/accounts/login/").content.decode()
    assert re.search(r'<label for="id_username"[^>]*>Username</label>', body)
    assert re.search(r'<label for="id_password"[^>]*>Password</label>', body)
    assert ">Sign in</button>" in body


def test_sign_out_says_so(alice: Any) -> None:
    client = browser_for(alice)
    response = client.post("/accounts/logout/", follow=True)
    assert "You have signed out." in response.content.decode()
    assert client.get("/").status_code == 302
