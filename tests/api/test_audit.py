"""The audit log: what is recorded, who may read it, and that it cannot be changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for
from workflows.models import AuditEntry, ImmutableRowError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_plans() -> Any:
    """Runs started here are rolled back; on SQLite their pks are handed out again, and
    ``executions.services.tx.plan_for`` caches plans by pk in this process, so forget
    them lest a later engine test get one (reported to the engine's owner)."""
    yield
    from executions.services import tx

    tx._PLANS.clear()


def audit(user: Any, **params: str) -> list[dict[str, Any]]:
    response = client_for(user).get("/api/v1/audit", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def share(user: Any, workflow_id: str, grants: dict[str, list[str]]) -> None:
    response = client_for(user).post(
        f"/api/v1/workflows/{workflow_id}/permissions", grants, format="json"
    )
    assert response.status_code == 200, response.content


def test_sharing_is_audited_with_actor_target_and_grants(
    alice: Any, bob: Any, alice_workflow: str
) -> None:
    # when alice shares her workflow with bob
    share(alice, alice_workflow, {"read": ["bob"], "execute": ["bob", "team:researchers"]})

    # then the audit log shows it: actor alice, on the workflow, granting bob and the team
    entries = audit(alice, object=alice_workflow, action="shared")
    assert len(entries) == 1
    entry = entries[0]
    assert entry["actor"] == "alice"
    assert entry["object_type"] == "workflow"
    assert entry["object_id"] == alice_workflow
    assert entry["client_address"] == "127.0.0.1"
    assert entry["summary"] == {
        "granted": {"execute": ["bob", "team:researchers"], "read": ["bob"]},
        "revoked": {},
    }

    # and taking it back is recorded as a revocation
    share(alice, alice_workflow, {"read": [], "execute": []})
    latest = audit(alice, object=alice_workflow, action="shared")[0]
    assert latest["summary"]["revoked"] == {
        "execute": ["bob", "team:researchers"],
        "read": ["bob"],
    }
    assert latest["summary"]["granted"] == {}


def test_unchanged_grants_are_not_recorded(alice: Any, bob: Any, alice_workflow: str) -> None:
    share(alice, alice_workflow, {"read": ["bob"]})
    share(alice, alice_workflow, {"read": ["bob"]})
    assert len(audit(alice, action="shared")) == 1


def test_bob_cannot_see_alices_entries(alice: Any, bob: Any, alice_workflow: str) -> None:
    share(alice, alice_workflow, {"read": ["bob"]})
    # bob may read the workflow, but its audit log is its owner's
    assert audit(bob) == []
    assert audit(bob, object=alice_workflow) == []


def test_staff_see_every_entry(alice: Any, alice_workflow: str, django_user_model: Any) -> None:
    staff = django_user_model.objects.create_user("sam", password="sam-pw-123!", is_staff=True)
    share(alice, alice_workflow, {"read": []})  # nothing changes: not recorded
    assert [e["action"] for e in audit(staff)] == ["created"]


def test_lifecycle_of_a_workflow_is_audited(
    alice: Any, alice_workflow: str, simple_definition: dict[str, Any]
) -> None:
    api = client_for(alice)
    simple_definition["description"] = "v2"
    assert (
        api.put(f"/api/v1/workflows/{alice_workflow}", simple_definition, format="json").status_code
        == 200
    )
    assert (
        api.patch(
            f"/api/v1/workflows/{alice_workflow}", {"monthly_budget": 5}, format="json"
        ).status_code
        == 200
    )
    assert api.delete(f"/api/v1/workflows/{alice_workflow}").status_code == 204
    # alice still reads the log of the workflow she deleted
    entries = audit(alice, object=alice_workflow)
    assert [e["action"] for e in entries] == ["deleted", "budget_changed", "updated", "created"]
    assert entries[2]["summary"]["version"] == 2
    assert entries[1]["summary"] == {"from": None, "to": "5.00"}
    assert all(e["actor"] == "alice" for e in entries)


def test_filters(alice: Any, bob: Any, alice_workflow: str) -> None:
    share(alice, alice_workflow, {"read": ["bob"]})
    assert [e["action"] for e in audit(alice, actor="alice")] == ["shared", "created"]
    assert audit(alice, actor="bob") == []
    assert len(audit(alice, since="2000-01-01")) == 2
    assert audit(alice, until="2000-01-01") == []


@pytest.mark.parametrize(
    ("params", "field"), [({"action": "ate"}, "action"), ({"since": "soon"}, "since")]
)
def test_bad_filters_are_a_400(alice: Any, params: dict[str, str], field: str) -> None:
    response = client_for(alice).get("/api/v1/audit", params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_anonymous_gets_401(anon_api: Any) -> None:
    assert anon_api.get("/api/v1/audit").status_code == 401


def test_entries_cannot_be_changed_or_deleted(alice: Any, alice_workflow: str) -> None:
    entry = AuditEntry.objects.get(object_id=alice_workflow, action="created")
    entry.summary = {"forged": True}
    with pytest.raises(ImmutableRowError):
        entry.save()
    with pytest.raises(ImmutableRowError):
        entry.delete()
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_name="mallory")
    with pytest.raises(ImmutableRowError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.summary != {"forged": True}
    assert entry.actor_name == "alice"


def test_admin_is_read_only(alice: Any, rf: Any) -> None:
    from django.contrib import admin

    model_admin = admin.site._registry[AuditEntry]
    request = rf.get("/admin/")
    request.user = alice
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_execution_detail_reads_are_audited_when_asked(
    alice: Any, bob: Any, alice_workflow: str
) -> None:
    from executions.models import Execution
    from workflows.models import Workflow

    workflow = Workflow.objects.get(public_id=alice_workflow)
    audited, plain = (
        Execution.objects.create(
            workflow=workflow,
            version=workflow.published_version(),
            definition=workflow.published_version().definition,
            created_by=alice,
            status="completed",
            security_config={"audit_logging": flag},
        )
        for flag in (True, False)
    )
    api = client_for(alice)
    for execution in (audited, plain):
        path = f"/api/v1/workflows/{alice_workflow}/executions/{execution.public_id}"
        assert api.get(path).status_code == 200
        assert api.get(f"/api/v1/executions/{execution.public_id}").status_code == 200
    # one entry per reader and minute (the run page polls)
    reads = audit(alice, action="results_read")
    assert [e["object_id"] for e in reads] == [audited.public_id]
    assert reads[0]["object_type"] == "execution"
    assert reads[0]["workflow_id"] == alice_workflow
    assert reads[0]["actor"] == "alice"
    # the object filter also finds an execution's entries through its workflow
    assert len(audit(alice, object=alice_workflow, action="results_read")) == 1
    # another reader is recorded too
    client_for(alice).post(
        f"/api/v1/workflows/{alice_workflow}/permissions", {"read": ["bob"]}, format="json"
    )
    assert client_for(bob).get(f"/api/v1/executions/{audited.public_id}").status_code == 200
    assert [e["actor"] for e in audit(alice, action="results_read")] == ["bob", "alice"]


def test_runs_and_cancellations_are_audited(alice: Any, alice_workflow: str) -> None:
    api = client_for(alice)
    started = api.post(
        f"/api/v1/workflows/{alice_workflow}/execute",
        {"inputs": {"text": "hello"}, "security_config": {"audit_logging": True}},
        format="json",
    )
    assert started.status_code == 201, started.content
    execution_id = started.json()["execution_id"]
    cancelled = api.post(f"/api/v1/workflows/{alice_workflow}/executions/{execution_id}/cancel")
    assert cancelled.status_code == 200, cancelled.content

    entries = audit(alice, object=execution_id)
    assert [e["action"] for e in entries] == ["cancelled", "executed"]
    assert entries[1]["summary"] == {"inputs": ["text"], "version": 1}
    assert entries[0]["summary"] == {"status": "cancelled"}
    assert all(e["workflow_id"] == alice_workflow for e in entries)
