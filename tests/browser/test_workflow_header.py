"""The frame every workflow page shares: its tabs lead to pages, and its header (status
badge, version) follows runs and saves without a reload.

Real Daphne, a real Celery worker for the run, real Chromium. alice owns the workflow.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SIMPLE_DEFINITION, client_for
from tests.executions.helpers import create_workflow, execute, wait_terminal

TIMEOUT = 30_000  # ms: a busy machine, not a speed assertion

# A step that runs for 8 s: long enough to open the page while the run is running
# (as the run page's own cancel test does).
HANGING_DEFINITION: dict[str, Any] = {
    "name": "Slow",
    "steps": [
        {
            "id": "hang",
            "type": "data_processing",
            "function": "sleep",
            "input": "x",
            "parameters": {"seconds": 8},
        },
    ],
}


@pytest.fixture
def alice(make_user: Any) -> Any:
    return make_user("alice")


def _open(page: Any, base_url_for: Any, user: Any, path: str) -> None:
    sign_in(page, base_url_for("").rstrip("/"), user)
    page.goto(base_url_for(path))


def test_no_tab_of_the_workflow_page_links_the_api(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    # Given alice's workflow, open in the editor
    workflow_id = create_workflow(alice, copy.deepcopy(SIMPLE_DEFINITION))
    _open(page, base_url_for, alice, f"/workflows/{workflow_id}/")

    # Then every tab links one of the workflow's pages, none the REST API
    tabs = page.get_by_role("navigation", name="Workflow").get_by_role("link")
    hrefs = {tabs.nth(i).inner_text(): tabs.nth(i).get_attribute("href") for i in range(5)}
    assert not [href for href in hrefs.values() if "/api/" in href], hrefs
    assert hrefs["Versions"] == f"/workflows/{workflow_id}/versions/"

    # And the Versions tab opens the versions page, with its list
    tabs.get_by_text("Versions", exact=True).click()
    page.wait_for_url(f"**/workflows/{workflow_id}/versions/")
    expect(page.get_by_label("Versions")).to_be_visible(timeout=TIMEOUT)
    expect(tabs.get_by_text("Versions", exact=True)).to_have_attribute("aria-current", "page")


def test_header_status_follows_a_run_that_ends_while_the_page_is_open(
    page: Any, live_app: Any, base_url_for: Any, alice: Any
) -> None:
    # Given alice looking at her workflow's Runs tab before its first run
    workflow_id = create_workflow(alice, copy.deepcopy(SIMPLE_DEFINITION))
    _open(page, base_url_for, alice, f"/workflows/{workflow_id}/runs/")
    status = page.get_by_test_id("workflow-status")
    expect(status).to_have_text("Not run yet")

    # When a run starts and ends elsewhere (the API)
    execution = wait_terminal(execute(alice, workflow_id, inputs={"text": "  A note.  "}))
    assert execution.status == "completed", execution.error

    # Then the header says so without a reload
    expect(status).to_have_attribute("data-status", "completed", timeout=TIMEOUT)
    expect(status).to_have_text("Completed")


def test_header_stops_saying_running_when_the_run_ends(
    page: Any, live_app: Any, base_url_for: Any, alice: Any
) -> None:
    # Given alice watching a run of her workflow: the header says Running
    workflow_id = create_workflow(alice, HANGING_DEFINITION)
    sign_in(page, base_url_for("").rstrip("/"), alice)
    execution_id = execute(alice, workflow_id)
    page.goto(base_url_for(f"/workflows/{workflow_id}/runs/{execution_id}/"))
    status = page.get_by_test_id("workflow-status")
    expect(status).to_have_attribute("data-status", "running", timeout=TIMEOUT)

    # When the run ends (cancelled, through the API)
    cancelled = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/executions/{execution_id}/cancel"
    )
    assert cancelled.status_code == 200, cancelled.content

    # Then the header says so without a reload
    expect(status).to_have_attribute("data-status", "cancelled", timeout=TIMEOUT)
    expect(status).to_have_text("Cancelled")


def test_header_version_follows_a_save_in_the_editor(
    page: Any, base_url_for: Any, alice: Any
) -> None:
    # Given alice's workflow at version 1, open in the editor
    workflow_id = create_workflow(alice, copy.deepcopy(SIMPLE_DEFINITION))
    _open(page, base_url_for, alice, f"/workflows/{workflow_id}/")
    page.wait_for_selector("body[data-editor-ready='true'][data-editor-layout='done']")
    version = page.get_by_test_id("workflow-version")
    expect(version).to_have_text("1.0 (v1)")

    # When she adds a step and saves
    page.get_by_role("button", name="Add builtin/yake-keywords").click()
    page.locator(".react-flow__node[data-id='yake_keywords']").wait_for(state="attached")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_label("Change note").fill("Keywords too")
    page.get_by_role("button", name="Save version").click()
    page.get_by_text("Saved a new version").wait_for()

    # Then the header shows the new version without a reload
    expect(version).to_have_text("1.0 (v2)", timeout=TIMEOUT)
