"""The insight pages in a real browser: the workflow's Analytics tab, the usage page
and the audit log.

Real Daphne, a real Celery worker running the steps (offline functions and a built-in
model, so no network) and real Chromium. alice owns the workflows; bob is whom she
shares with. The figures on the page are compared with what the API says.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import client_for
from tests.executions.helpers import create_workflow, execute, wait_terminal

TIMEOUT = 30_000  # ms: a busy machine, not a speed assertion

FAST_DEFINITION: dict[str, Any] = {
    "name": "Tidy notes",
    "steps": [
        {
            "id": "clean",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.text}",
        },
        {
            "id": "summary",
            "type": "inference",
            "model": "builtin/extractive-summary",
            "input": "${clean.result}",
        },
    ],
}

# "side" waits for "clean" but reads nothing of it: the optimizer runs them side by side.
OPTIMIZABLE_DEFINITION: dict[str, Any] = {
    "name": "Optimizable",
    "steps": [
        {"id": "clean", "type": "data_processing", "function": "clean_text", "input": "a  b"},
        {
            "id": "side",
            "type": "data_processing",
            "function": "noop",
            "input": "static",
            "depends_on": ["clean"],
        },
    ],
}


def run_times(user: Any, workflow_id: str, times: int) -> None:
    for i in range(times):
        execution = wait_terminal(execute(user, workflow_id, inputs={"text": f"  Note   {i}.  "}))
        assert execution.status == "completed", execution.error


def signed_in(page: Any, base_url_for: Any, user: Any) -> None:
    sign_in(page, base_url_for("").rstrip("/"), user)


def test_analytics_tab_shows_the_apis_figures_charts_and_csv(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    # Given a workflow alice ran three times through the real engine
    alice = make_user("alice")
    workflow_id = create_workflow(alice, FAST_DEFINITION)
    run_times(alice, workflow_id, 3)
    figures = client_for(alice).get(
        f"/api/v1/workflows/{workflow_id}/analytics", {"timeframe": "last_7_days"}
    )
    assert figures.status_code == 200, figures.content
    api = figures.json()
    assert api["total_executions"] == 3

    # When she opens the Analytics tab
    signed_in(page, base_url_for, alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/analytics/"))
    expect(page.get_by_test_id("analytics")).to_have_attribute(
        "data-ready", "true", timeout=TIMEOUT
    )

    # Then the key figures are the API's (7 days is the default timeframe)
    expect(
        page.get_by_role("group", name="Timeframe").get_by_role("button", name="7 days")
    ).to_have_attribute("aria-pressed", "true")
    for name, key in [
        ("runs", "total_executions"),
        ("success-rate", "success_rate"),
        ("avg-duration", "avg_duration_seconds"),
        ("p50", "p50_duration_seconds"),
        ("p95", "p95_duration_seconds"),
        ("avg-cost", "avg_cost"),
        ("total-cost", "total_cost"),
    ]:
        shown = page.get_by_test_id(f"kpi-{name}").get_attribute("data-value")
        assert api[key] is not None, key
        assert float(shown) == float(api[key]), (name, shown, api[key])
    expect(page.get_by_test_id("kpi-runs")).to_contain_text("3")
    expect(page.get_by_test_id("kpi-success-rate")).to_contain_text("100.0%")

    # and the charts are drawn on a canvas, labelled for assistive technology
    duration_chart = page.get_by_test_id("chart-duration-chart")
    expect(duration_chart).to_have_attribute("role", "img")
    expect(duration_chart).to_have_attribute(
        "aria-label", "Duration trend: Average duration of completed runs, per day (UTC)"
    )
    expect(duration_chart.locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-slowest-chart").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-flakiest")).to_contain_text("No step failed or was retried")
    expect(page.get_by_test_id("steps-table")).to_contain_text("summary")

    # and "Download CSV" gives the numbers behind the slowest-steps chart
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV: Slowest steps").click()
    assert download.value.suggested_filename == f"{workflow_id}-slowest-steps-last_7_days.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["step_id", "runs", "avg_duration_seconds", "avg_cost"]
    by_step = {s["step_id"]: s for s in api["steps"]}
    assert {r[0] for r in rows[1:]} == {"clean", "summary"}
    for step_id, runs, seconds, _cost in rows[1:]:
        assert int(runs) == by_step[step_id]["runs"] == 3
        assert float(seconds) == by_step[step_id]["avg_duration_seconds"]

    # and switching to 24 hours (from the keyboard) refetches the same runs
    page.get_by_role("button", name="24 hours").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="24 hours")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("analytics")).to_have_attribute(
        "data-ready", "true", timeout=TIMEOUT
    )
    expect(page.get_by_test_id("kpi-runs")).to_have_attribute("data-value", "3")


def test_a_workflow_without_runs_shows_the_empty_state_and_saves_an_optimized_version(
    page: Any, server: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    workflow_id = create_workflow(alice, OPTIMIZABLE_DEFINITION)
    signed_in(page, base_url_for, alice)
    page.goto(base_url_for(f"/workflows/{workflow_id}/analytics/"))

    # No runs yet: the page says what to do
    expect(page.get_by_test_id("analytics-empty")).to_contain_text(
        "Run this workflow to see analytics", timeout=TIMEOUT
    )

    # When alice asks for speed suggestions
    optimize = page.get_by_test_id("optimize")
    expect(optimize.get_by_label("Speed")).to_be_checked()
    optimize.get_by_role("button", name="Suggest optimizations").click()

    # Then the unneeded dependency is suggested, with its reason, and the diff names the step
    suggestion = optimize.locator('[data-testid="suggestion"][data-kind="parallelize"]')
    expect(suggestion).to_contain_text("reads none of its results", timeout=TIMEOUT)
    expect(suggestion).to_contain_text("In the optimized version")
    expect(optimize.get_by_test_id("optimize-diff")).to_contain_text("Changed steps (1):")
    expect(optimize.get_by_test_id("optimize-diff")).to_contain_text("side")

    # When she saves it with a change note
    optimize.get_by_label("Change note").fill("Run side next to clean")
    optimize.get_by_role("button", name="Save optimized version").click()
    expect(optimize.get_by_role("status").filter(has_text="Saved as version")).to_contain_text(
        "(v2)", timeout=TIMEOUT
    )

    # Then the workflow has a second version without the dependency
    detail = client_for(alice).get(f"/api/v1/workflows/{workflow_id}").json()
    assert detail["version_number"] == 2
    side = next(s for s in detail["definition"]["steps"] if s["id"] == "side")
    assert "depends_on" not in side
    versions = client_for(alice).get(f"/api/v1/workflows/{workflow_id}/versions").json()
    notes = [
        v["change_note"] for v in (versions["results"] if isinstance(versions, dict) else versions)
    ]
    assert "Run side next to clean" in notes


def test_reader_cannot_save_an_optimized_version(
    page: Any, server: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    workflow_id = create_workflow(alice, OPTIMIZABLE_DEFINITION)
    response = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/permissions", {"read": ["bob"]}, format="json"
    )
    assert response.status_code == 200, response.content
    signed_in(page, base_url_for, bob)
    page.goto(base_url_for(f"/workflows/{workflow_id}/analytics/"))
    optimize = page.get_by_test_id("optimize")
    optimize.get_by_role("button", name="Suggest optimizations").click()
    expect(optimize.get_by_test_id("suggestion").first).to_be_visible(timeout=TIMEOUT)
    expect(optimize).to_contain_text("You may not modify this workflow")
    expect(optimize.get_by_role("button", name="Save optimized version")).to_have_count(0)


def test_usage_page_shows_a_row_per_workflow(
    page: Any, live_app: Any, base_url_for: Any, make_user: Any
) -> None:
    # Given two workflows alice ran
    alice = make_user("alice")
    first = create_workflow(alice, FAST_DEFINITION)
    second = create_workflow(alice, {**FAST_DEFINITION, "name": "Second, with a comma"})
    run_times(alice, first, 2)
    run_times(alice, second, 1)

    # When she opens the usage page
    signed_in(page, base_url_for, alice)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    expect(page.get_by_test_id("usage")).to_have_attribute("data-ready", "true", timeout=TIMEOUT)

    # Then there is one row per workflow, with its runs, and the charts are drawn
    rows = page.get_by_test_id("usage-row")
    expect(rows).to_have_count(2)
    expect(page.locator(f'[data-testid="usage-row"][data-key="{first}"]')).to_contain_text(
        "Tidy notes"
    )
    expect(page.locator(f'[data-testid="usage-row"][data-key="{first}"] td').first).to_have_text(
        "2"
    )
    expect(page.locator(f'[data-testid="usage-row"][data-key="{second}"] td').first).to_have_text(
        "1"
    )
    # each amount in its column's unit: hours and GB-hours, never seconds or milliseconds
    cells = page.locator(f'[data-testid="usage-row"][data-key="{first}"] td')
    expect(cells.nth(1)).to_have_text(re.compile(r"^[<0-9.]+ h$"))  # CPU hours
    expect(cells.nth(2)).to_have_text(re.compile(r"^[<0-9.]+ GB·h$"))  # RAM GB-hours
    expect(page.get_by_test_id("chart-usage-hours-chart").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-usage-over-time-chart").locator("canvas")).to_have_count(
        1, timeout=TIMEOUT
    )

    # and the table downloads as CSV, the comma in a name quoted
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV: Usage table").click()
    text = Path(download.value.path()).read_text()
    rows_csv = list(csv.reader(io.StringIO(text)))
    assert rows_csv[0] == [
        "workflow_id",
        "name",
        "executions",
        "cpu_hours",
        "ram_gb_hours",
        "gpu_hours",
        "total_cost",
    ]
    assert '"Second, with a comma"' in text
    assert {(r[0], r[1], r[2]) for r in rows_csv[1:]} == {
        (first, "Tidy notes", "2"),
        (second, "Second, with a comma", "1"),
    }

    # and grouping by user shows alice
    page.get_by_role("group", name="Group by").get_by_role("button", name="User").click()
    expect(page.locator('[data-testid="usage-row"][data-key="alice"]')).to_be_visible(
        timeout=TIMEOUT
    )


def test_audit_page_lists_alices_share_with_bob(
    page: Any, server: Any, base_url_for: Any, make_user: Any
) -> None:
    # Given alice shared her workflow with bob through the permissions API
    alice = make_user("alice")
    make_user("bob")
    workflow_id = create_workflow(alice, FAST_DEFINITION)
    response = client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/permissions", {"read": ["bob"]}, format="json"
    )
    assert response.status_code == 200, response.content

    # When she opens the audit log
    signed_in(page, base_url_for, alice)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_test_id("audit")).to_have_attribute("data-ready", "true", timeout=TIMEOUT)

    # Then the share is listed: who, what, on which workflow, for whom
    shared = page.locator('[data-testid="audit-row"][data-action="shared"]')
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text("alice")
    expect(shared).to_contain_text(workflow_id)
    expect(shared.get_by_test_id("audit-summary")).to_have_text("granted read: bob")
    expect(page.locator('[data-testid="audit-row"][data-action="created"]')).to_have_count(1)

    # and filtering by action keeps only the share, in the URL too
    page.get_by_label("Action").select_option("shared")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    expect(page.get_by_test_id("audit-row")).to_have_attribute("data-action", "shared")
    assert "action=shared" in page.url

    # and a date range: today (inclusive) keeps it, a range that ended yesterday does not
    today = date.today()
    page.get_by_label("From").fill(today.isoformat())
    page.get_by_label("To (inclusive)").fill(today.isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    page.get_by_label("From").fill((today - timedelta(days=3)).isoformat())
    page.get_by_label("To (inclusive)").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("audit-empty")).to_be_visible()
    page.get_by_label("From").fill("")
    page.get_by_label("To (inclusive)").fill("")

    # and a filter nothing matches shows the empty state
    page.get_by_label("Actor").fill("nobody")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("audit-empty")).to_contain_text("No entries match these filters")

    # and a bad date from the URL shows the API's message
    page.goto(base_url_for("/audit/?since=2024-13-45"))
    expect(page.get_by_role("alert")).to_contain_text("since:", timeout=TIMEOUT)


def test_audit_log_pages_through_many_entries(
    page: Any, server: Any, base_url_for: Any, make_user: Any
) -> None:
    # Given 27 entries: the creation and 26 changes of who may read
    alice = make_user("alice")
    make_user("bob")
    workflow_id = create_workflow(alice, FAST_DEFINITION)
    api = client_for(alice)
    for i in range(26):
        grants = {"read": ["bob"] if i % 2 == 0 else []}
        response = api.post(f"/api/v1/workflows/{workflow_id}/permissions", grants, format="json")
        assert response.status_code == 200, response.content

    # When alice opens the audit log, she sees the newest 25
    signed_in(page, base_url_for, alice)
    page.goto(base_url_for("/audit/"))
    expect(page.get_by_test_id("audit-row")).to_have_count(25, timeout=TIMEOUT)
    pagination = page.get_by_role("navigation", name="Pagination")
    expect(pagination).to_contain_text("1–25 of 27")
    expect(pagination.get_by_role("button", name="Previous")).to_be_disabled()

    # and the next page holds the two oldest, the creation last
    pagination.get_by_role("button", name="Next").click()
    expect(pagination).to_contain_text("26–27 of 27")
    expect(page.get_by_test_id("audit-row")).to_have_count(2)
    expect(page.get_by_test_id("audit-row").last).to_have_attribute("data-action", "created")
    expect(pagination.get_by_role("button", name="Next")).to_be_disabled()
    assert "offset=25" in page.url
