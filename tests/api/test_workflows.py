"""The workflows endpoints, driven as an API client would."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import client_for
from tests.seed import SCIENTIFIC_PAPER_ANALYSIS_JSON, scientific_paper_analysis
from workflows.models import Workflow, WorkflowVersion


def test_seed_paper_analysis_posted_verbatim_returns_the_seed_fields(alice_api: Any) -> None:
    response = alice_api.generic(
        "POST", "/api/v1/workflows", SCIENTIFIC_PAPER_ANALYSIS_JSON, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {
        "id",
        "name",
        "status",
        "version",
        "created_at",
        "step_count",
        "estimated_cost",
        "estimated_duration",
    }
    assert body["id"].startswith("wf_")
    assert body["name"] == "Scientific Paper Analysis"
    assert body["status"] == "created"
    assert body["version"] == "1.0"
    assert body["step_count"] == 4
    assert body["estimated_duration"] > 0
    assert isinstance(body["estimated_cost"], float)


def test_trailing_slash_is_optional(alice_api: Any, simple_definition: Any) -> None:
    assert alice_api.post("/api/v1/workflows/", simple_definition, format="json").status_code == 201
    assert alice_api.get("/api/v1/workflows/").status_code == 200


def test_cycle_is_a_400_naming_the_cycle(alice_api: Any) -> None:
    doc = {
        "name": "Loopy",
        "steps": [
            {"id": "a", "type": "aggregation", "depends_on": ["c"]},
            {"id": "b", "type": "aggregation", "inputs": {"x": "${a.result}"}},
            {"id": "c", "type": "aggregation", "depends_on": ["b"]},
        ],
    }
    response = alice_api.post("/api/v1/workflows", doc, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "definition_invalid"
    cycles = [e for e in body["errors"] if e["code"] == "cycle"]
    assert len(cycles) == 1
    assert (
        "a → b → c → a" in cycles[0]["message"]
        or "b → c → a → b" in cycles[0]["message"]
        or "c → a → b → c" in cycles[0]["message"]
    )
    assert Workflow.objects.count() == 0


def test_all_problems_are_reported_at_once(alice_api: Any) -> None:
    doc = {
        "name": "Broken",
        "steps": [
            {"id": "a", "type": "telepathy"},
            {
                "id": "a",
                "type": "inference",
                "model": "builtin/yake-keywords",
                "input": "${nosuch.result}",
            },
            {"id": "b", "type": "conditional", "condition": "((", "depends_on": ["zzz"]},
        ],
    }
    body = alice_api.post("/api/v1/workflows", doc, format="json").json()
    codes = {e["code"] for e in body["errors"]}
    assert len(codes) >= 5, body["errors"]
    for error in body["errors"]:
        assert error["message"] and "field" in error and "step" in error


def test_detail_returns_definition_and_callers_permissions(
    alice_api: Any, alice_workflow: str
) -> None:
    body = alice_api.get(f"/api/v1/workflows/{alice_workflow}").json()
    assert body["definition"]["steps"][0]["id"] == "clean"
    assert body["your_permissions"] == ["read", "execute", "modify", "delete"]
    assert body["owner"] == "alice"


def test_put_makes_a_new_version_and_keeps_the_old(
    alice_api: Any, alice_workflow: str, simple_definition: Any
) -> None:
    edited = {**simple_definition, "version": "1.1", "change_note": "Shorter summary"}
    edited["steps"][1]["parameters"] = {"max_tokens": 50}
    response = alice_api.put(f"/api/v1/workflows/{alice_workflow}", edited, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["version_number"] == 2
    assert response.json()["version"] == "1.1"
    versions = alice_api.get(f"/api/v1/workflows/{alice_workflow}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["change_note"] == "Shorter summary"
    v1 = alice_api.get(f"/api/v1/workflows/{alice_workflow}/versions/1").json()
    assert "parameters" not in v1["definition"]["steps"][1]
    v2 = alice_api.get(f"/api/v1/workflows/{alice_workflow}/versions/2").json()
    assert v2["definition"]["steps"][1]["parameters"] == {"max_tokens": 50}


def test_invalid_put_saves_no_version(alice_api: Any, alice_workflow: str) -> None:
    response = alice_api.put(
        f"/api/v1/workflows/{alice_workflow}", {"name": "x", "steps": []}, format="json"
    )
    assert response.status_code == 400
    assert WorkflowVersion.objects.filter(workflow__public_id=alice_workflow).count() == 1


def test_unknown_version_is_404(alice_api: Any, alice_workflow: str) -> None:
    assert alice_api.get(f"/api/v1/workflows/{alice_workflow}/versions/9").status_code == 404


@pytest.mark.django_db
def test_versions_are_immutable(alice: Any, alice_workflow: str) -> None:
    from workflows.models import ImmutableRowError

    version = WorkflowVersion.objects.get(workflow__public_id=alice_workflow)
    version.change_note = "rewritten history"
    with pytest.raises(ImmutableRowError):
        version.save()
    with pytest.raises(ImmutableRowError):
        version.delete()
    assert WorkflowVersion.objects.get(pk=version.pk).change_note == "Created"


def test_delete_is_soft(alice_api: Any, alice_workflow: str) -> None:
    assert alice_api.delete(f"/api/v1/workflows/{alice_workflow}").status_code == 204
    assert alice_api.get(f"/api/v1/workflows/{alice_workflow}").status_code == 404
    assert alice_api.get("/api/v1/workflows").json()["count"] == 0
    workflow = Workflow.objects.get(public_id=alice_workflow)
    assert workflow.deleted_at is not None
    assert workflow.versions.count() == 1


class TestList:
    @pytest.fixture
    def three(self, alice_api: Any, simple_definition: Any) -> list[str]:
        ids = []
        for name in ["Beta", "alpha", "Gamma ray"]:
            doc = {**simple_definition, "name": name, "description": f"about {name.lower()}"}
            ids.append(alice_api.post("/api/v1/workflows", doc, format="json").json()["id"])
        return ids

    def test_sort_by_name(self, alice_api: Any, three: list[str]) -> None:
        names = [w["name"] for w in alice_api.get("/api/v1/workflows?sort=name").json()["results"]]
        assert names == sorted(names)
        rev = [w["name"] for w in alice_api.get("/api/v1/workflows?sort=-name").json()["results"]]
        assert rev == list(reversed(names))

    def test_default_order_is_newest_first(self, alice_api: Any, three: list[str]) -> None:
        ids = [w["id"] for w in alice_api.get("/api/v1/workflows").json()["results"]]
        assert ids == list(reversed(three))

    def test_limit_and_offset(self, alice_api: Any, three: list[str]) -> None:
        body = alice_api.get("/api/v1/workflows?sort=created_at&limit=1&offset=1").json()
        assert body["count"] == 3
        assert [w["id"] for w in body["results"]] == [three[1]]

    def test_status_filter(self, alice_api: Any, three: list[str]) -> None:
        assert alice_api.get("/api/v1/workflows?status=created").json()["count"] == 3
        assert alice_api.get("/api/v1/workflows?status=running").json()["count"] == 0

    def test_search_matches_name_or_description(self, alice_api: Any, three: list[str]) -> None:
        body = alice_api.get("/api/v1/workflows?search=gamma").json()
        assert [w["id"] for w in body["results"]] == [three[2]]

    def test_bad_sort_is_a_400(self, alice_api: Any, three: list[str]) -> None:
        response = alice_api.get("/api/v1/workflows?sort=password")
        assert response.status_code == 400
        assert "sort" in response.json()["fields"]

    def test_bad_limit_is_a_400_not_ignored(self, alice_api: Any, three: list[str]) -> None:
        response = alice_api.get("/api/v1/workflows?limit=abc&offset=-4")
        assert response.status_code == 400
        assert "limit" in response.json()["fields"]

    def test_shared_with_me(self, alice_api: Any, bob: Any, three: list[str]) -> None:
        alice_api.post(
            f"/api/v1/workflows/{three[0]}/permissions", {"read": ["bob"]}, format="json"
        )
        bob_api = client_for(bob)
        bob_api.post(
            "/api/v1/workflows",
            {"name": "Bob's", "steps": [{"id": "x", "type": "aggregation"}]},
            format="json",
        )
        shared = bob_api.get("/api/v1/workflows?shared=true").json()["results"]
        assert [w["id"] for w in shared] == [three[0]]


class TestImportExport:
    def test_export_yaml_round_trips_through_import(self, alice_api: Any) -> None:
        created = alice_api.post("/api/v1/workflows", scientific_paper_analysis(), format="json")
        wf = created.json()["id"]
        exported = alice_api.get(f"/api/v1/workflows/{wf}/export?format=yaml")
        assert exported.status_code == 200
        assert exported["Content-Type"].startswith("application/yaml")
        assert f"{wf}-v1.yaml" in exported["Content-Disposition"]
        document = yaml.safe_load(exported.content)
        assert document["steps"] == scientific_paper_analysis()["steps"]
        imported = alice_api.generic(
            "POST", "/api/v1/workflows/import", exported.content, content_type="application/yaml"
        )
        assert imported.status_code == 201, imported.content
        again = alice_api.get(f"/api/v1/workflows/{imported.json()['id']}").json()
        assert again["definition"] == alice_api.get(f"/api/v1/workflows/{wf}").json()["definition"]

    def test_export_json(self, alice_api: Any, alice_workflow: str) -> None:
        response = alice_api.get(f"/api/v1/workflows/{alice_workflow}/export?format=json")
        assert response.json()["steps"][0]["id"] == "clean"

    def test_import_uploaded_file(self, alice_api: Any) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(
            "paper.json", SCIENTIFIC_PAPER_ANALYSIS_JSON.encode(), content_type="application/json"
        )
        response = alice_api.post("/api/v1/workflows/import", {"file": upload}, format="multipart")
        assert response.status_code == 201, response.content
        assert response.json()["step_count"] == 4

    def test_import_malformed_yaml_is_a_400(self, alice_api: Any) -> None:
        response = alice_api.generic(
            "POST", "/api/v1/workflows/import", b"name: [unclosed", content_type="application/yaml"
        )
        assert response.status_code == 400
        assert "YAML" in response.json()["message"]

    def test_import_yaml_with_aliases_is_refused(self, alice_api: Any) -> None:
        bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nname: n\nsteps: [*b]\n"
        response = alice_api.generic(
            "POST", "/api/v1/workflows/import", bomb, content_type="application/yaml"
        )
        assert response.status_code == 400
        assert "aliases" in response.json()["message"]

    def test_export_bad_format_is_a_400(self, alice_api: Any, alice_workflow: str) -> None:
        response = alice_api.get(f"/api/v1/workflows/{alice_workflow}/export?format=xml")
        assert response.status_code == 400


class TestValidate:
    def test_valid_definition_with_cost_estimate(self, alice_api: Any) -> None:
        response = alice_api.post(
            "/api/v1/workflows/validate",
            {
                "workflow_definition": scientific_paper_analysis(),
                "checks": [
                    "syntax_validation",
                    "dependency_check",
                    "resource_requirements",
                    "cost_estimation",
                ],
            },
            format="json",
        )
        body = response.json()
        assert response.status_code == 200
        assert body["is_valid"] is True
        assert body["errors"] == []
        assert body["estimated_duration"] > 0
        assert set(body["cost_breakdown"]["steps"]) == {
            "extract_text",
            "summarize",
            "extract_methods",
            "final_analysis",
        }

    def test_invalid_definition_is_200_with_errors(self, alice_api: Any) -> None:
        doc = {"name": "x", "steps": [{"id": "a", "type": "inference", "depends_on": ["a"]}]}
        body = alice_api.post(
            "/api/v1/workflows/validate", {"workflow_definition": doc}, format="json"
        ).json()
        assert body["is_valid"] is False
        assert {"self_dependency"} <= {e["code"] for e in body["errors"]}

    def test_without_cost_estimation_no_estimate(self, alice_api: Any) -> None:
        body = alice_api.post(
            "/api/v1/workflows/validate",
            {"workflow_definition": scientific_paper_analysis(), "checks": ["syntax_validation"]},
            format="json",
        ).json()
        assert body["estimated_cost"] is None

    def test_unknown_check_is_a_400(self, alice_api: Any) -> None:
        response = alice_api.post(
            "/api/v1/workflows/validate",
            {"workflow_definition": {}, "checks": ["vibes"]},
            format="json",
        )
        assert response.status_code == 400

    def test_gpu_requirement_no_queue_offers_is_a_warning(self, alice_api: Any) -> None:
        doc = {**scientific_paper_analysis(), "resource_requirements": {"gpu_required": True}}
        body = alice_api.post(
            "/api/v1/workflows/validate", {"workflow_definition": doc}, format="json"
        ).json()
        assert body["is_valid"] is True
        assert any(w["field"].startswith("resource_requirements") for w in body["warnings"])


def test_definition_json_schema_is_served(anon_api: Any) -> None:
    schema = anon_api.get("/api/v1/schema/workflow-definition").json()
    assert "steps" in schema["properties"]


def test_bad_function_parameters_are_a_400_when_saving(alice_api: Any) -> None:
    doc = {
        "name": "p",
        "steps": [
            {
                "id": "c",
                "type": "data_processing",
                "function": "clean_text",
                "input": "x",
                "parameters": {"lowercase": "yes", "shout": True},
            },
            {
                "id": "r",
                "type": "data_processing",
                "function": "regex_extract",
                "input": "x",
                "parameters": {"pattern": "${workflow.input.p}"},
            },
        ],
    }
    response = alice_api.post("/api/v1/workflows", doc, format="json")
    assert response.status_code == 400
    errors = [e for e in response.json()["errors"] if e["code"] == "invalid_parameters"]
    assert {e["field"] for e in errors} == {"steps[0].parameters"}
    assert any("lowercase" in e["message"] for e in errors)
    assert any("shout" in e["message"] for e in errors)


def test_export_format_parameter_wins_over_accept(alice_api: Any, alice_workflow: str) -> None:
    response = alice_api.get(
        f"/api/v1/workflows/{alice_workflow}/export?format=yaml", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
