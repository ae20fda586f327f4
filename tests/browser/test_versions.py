"""The versions page: pick two versions and see what changed."""

from __future__ import annotations

import copy
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SIMPLE_DEFINITION, client_for


def test_version_diff_shows_a_changed_an_added_and_a_removed_step(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    api = client_for(alice)
    created = api.post("/api/v1/workflows", copy.deepcopy(SIMPLE_DEFINITION), format="json")
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]
    second = copy.deepcopy(SIMPLE_DEFINITION)
    second["steps"][1]["model"] = "builtin/yake-keywords"
    second["steps"].append(
        {
            "id": "entities",
            "type": "inference",
            "model": "builtin/capitalized-phrases",
            "input": "x",
        }
    )
    third = copy.deepcopy(second)
    third["steps"] = [s for s in third["steps"] if s["id"] != "entities"]
    for body, note in ((second, "Keywords instead"), (third, "No entities")):
        saved = api.put(
            f"/api/v1/workflows/{workflow_id}", {**body, "change_note": note}, format="json"
        )
        assert saved.status_code == 200, saved.content

    sign_in(page, base_url_for("").rstrip("/"), alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/versions/"))
    versions = page.get_by_label("Versions")
    versions.get_by_text("Keywords instead").wait_for()
    expect(versions.get_by_text("No entities")).to_be_visible()

    # By default the latest two: v2 → v3 removes "entities".
    page.locator("[data-testid='step-node-entities'][data-diff='removed']").wait_for()

    page.get_by_label("Compare from version 1").check()
    page.get_by_label("Compare to version 2").check()
    page.locator("[data-testid='step-node-summary'][data-diff='changed']").wait_for()
    expect(page.locator("[data-testid='step-node-entities'][data-diff='added']")).to_be_visible()
    assert page.locator("[data-testid='step-node-clean']").get_attribute("data-diff") == "unchanged"
    change = page.get_by_test_id("change-summary")
    expect(change.get_by_text("changed")).to_be_visible()
    expect(change.get_by_text("model")).to_be_visible()
    expect(change.get_by_text("builtin/yake-keywords")).to_be_visible()
