"""The pages a signed-in person uses: the workflows list, the template gallery,
API tokens and teams, through the real server in Chromium."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SIMPLE_DEFINITION, client_for
from workflows.builtin import builtin_templates_load
from workflows.models import ApiToken, Workflow


def test_new_user_sees_an_empty_list_that_says_what_to_do(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    dana = make_user("dana")
    sign_in(page, base_url_for("").rstrip("/"), dana)
    expect(page.get_by_role("heading", name="No workflows yet")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Browse templates").click()
    expect(page).to_have_url(re.compile(r"/templates/$"))


def test_list_filters_by_search_and_links_to_the_editor(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    dana = make_user("dana")
    api = client_for(dana)
    for name in ["Protein folding", "Galaxy survey"]:
        assert (
            api.post(
                "/api/v1/workflows", {**SIMPLE_DEFINITION, "name": name}, format="json"
            ).status_code
            == 201
        )
    sign_in(page, base_url_for("").rstrip("/"), dana)
    table = page.get_by_role("table", name="Workflows")
    expect(table.get_by_role("link", name="Galaxy survey")).to_be_visible()
    page.get_by_label("Search").fill("protein")
    page.get_by_role("button", name="Apply").click()
    expect(table.get_by_role("link", name="Galaxy survey")).to_have_count(0)
    table.get_by_role("link", name="Protein folding").click()
    workflow = Workflow.objects.get(name="Protein folding")
    expect(page).to_have_url(re.compile(rf"/workflows/{workflow.public_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Protein folding")
    expect(page.get_by_role("link", name="Editor")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="No runs yet")).to_be_visible()


# A template of the user's own, so the test does not depend on the built-ins' wording.
LAB_TEMPLATE: dict[str, Any] = {
    "name": "Lab analysis",
    "description": "Clean a text, then summarize it.",
    "category": "testing",
    "parameters": [
        {"name": "analysis_depth", "type": "string", "enum": ["basic", "detailed"]},
        {"name": "max_tokens", "type": "integer", "default": 150, "description": "Upper bound"},
        {"name": "after", "type": "string", "default": "clean"},
    ],
    "steps_template": [
        {
            "id": "clean",
            "type": "data_processing",
            "function": "clean_text",
            "input": "${workflow.input.text}",
        },
        {
            "id": "analyze",
            "type": "inference",
            "model": "builtin/extractive-summary",
            "input": "Analysis (${template.analysis_depth}): ${clean.result}",
            "depends_on": ["${template.after}"],
            "parameters": {"max_tokens": "${template.max_tokens}"},
        },
    ],
}


def _lab_template(user: Any) -> None:
    response = client_for(user).post("/api/v1/templates", LAB_TEMPLATE, format="json")
    assert response.status_code == 201, response.content


def test_user_creates_a_workflow_from_a_template(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    builtin_templates_load()
    erin = make_user("erin")
    _lab_template(erin)
    sign_in(page, base_url_for("").rstrip("/"), erin)
    page.get_by_role("link", name="From a template").click()
    expect(page).to_have_url(re.compile(r"/templates/$"))
    expect(page.get_by_role("button", name=re.compile("^Text Analysis Pipeline"))).to_be_visible()
    page.get_by_role("button", name=re.compile("^Lab analysis")).click()
    detail = page.get_by_role("region", name="Lab analysis")
    expect(detail.get_by_label("max_tokens")).to_have_value("150")
    # analysis_depth is required and has no default: the form says so before sending.
    detail.get_by_role("button", name="Use this template").click()
    expect(detail.get_by_text("must have required property")).to_be_visible()
    detail.get_by_label("analysis_depth").select_option("detailed")
    detail.get_by_label("max_tokens").fill("300")
    detail.get_by_label("Name of the new workflow").fill("Erin's analysis")
    detail.get_by_role("button", name="Use this template").click()
    page.wait_for_url(re.compile(r"/workflows/wf_[A-Za-z0-9_]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Erin's analysis")
    workflow = Workflow.objects.get(name="Erin's analysis")
    assert workflow.owner == erin
    analyze = workflow.published_version().definition["steps"][1]
    assert analyze["parameters"]["max_tokens"] == 300
    assert analyze["input"].startswith("Analysis (detailed)")


def test_template_errors_from_the_api_are_shown(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    erin = make_user("erin")
    _lab_template(erin)
    sign_in(page, base_url_for("").rstrip("/"), erin)
    page.goto(base_url_for("/templates/"))
    page.get_by_role("button", name=re.compile("^Lab analysis")).click()
    detail = page.get_by_role("region", name="Lab analysis")
    detail.get_by_label("analysis_depth").select_option("basic")
    detail.get_by_label("after").fill("no_such_step")
    detail.get_by_role("button", name="Use this template").click()
    expect(detail.get_by_role("alert")).to_contain_text("no_such_step")
    assert page.url.endswith("/templates/")
    assert not Workflow.objects.filter(owner=erin).exists()


def test_tokens_page_shows_the_key_once_and_revokes(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    frank = make_user("frank")
    sign_in(page, base_url_for("").rstrip("/"), frank)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="No API tokens yet")).to_be_visible()
    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Expires").select_option("30")
    page.get_by_role("button", name="Create token").click()
    key_box = page.get_by_test_id("new-token-key")
    expect(key_box).to_have_value(re.compile(r"^prsm_"))
    key = key_box.input_value()
    expect(page.get_by_text("it is shown only once")).to_be_visible()
    # The key works against the API.
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/workflows").status_code == 200
    row = page.get_by_role("row", name=re.compile("laptop"))
    expect(row).to_contain_text(key[:8])
    page.get_by_role("button", name="I have stored it").click()
    expect(key_box).to_have_count(0)
    page.reload()
    expect(page.get_by_text(key)).to_have_count(0)
    page.get_by_role("button", name="Revoke laptop").click()
    page.get_by_role("row", name=re.compile("laptop")).get_by_role(
        "button", name="Revoke", exact=True
    ).click()
    expect(page.get_by_role("heading", name="No API tokens yet")).to_be_visible()
    assert ApiToken.objects.get(user=frank, name="laptop").revoked_at is not None
    assert api.get("/api/v1/workflows").status_code == 401


def test_teams_page_creates_a_team_and_adds_a_member(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    gina = make_user("gina")
    make_user("henry", first_name="Henry", last_name="Moseley")
    sign_in(page, base_url_for("").rstrip("/"), gina)
    page.get_by_role("link", name="Teams").click()
    expect(page.get_by_role("heading", name="You are not in any team yet")).to_be_visible()
    page.get_by_label("Team name").fill("spectroscopy")
    page.get_by_role("button", name="Create team").click()
    team = page.get_by_role("region", name=re.compile("^spectroscopy"))
    expect(team.get_by_role("list", name="Members of spectroscopy")).to_contain_text("gina")
    team.get_by_role("combobox", name="Add a member").fill("mose")
    team.get_by_role("option", name=re.compile("henry")).click()
    team.get_by_role("button", name="Add member").click()
    members = team.get_by_role("list", name="Members of spectroscopy")
    expect(members).to_contain_text("Henry Moseley")
    team.get_by_role("button", name="Make henry a manager of spectroscopy").click()
    expect(members.get_by_role("listitem").filter(has_text="henry")).to_contain_text("Manager")
    # A duplicate name is refused with the reason.
    page.get_by_label("Team name").fill("Spectroscopy")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")


def test_every_page_has_an_icon_and_favicon_ico_is_not_a_404(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    # Given the sign-in page: it names its icon, which the server serves
    page.goto(base_url_for("/accounts/login/"))
    icon = page.locator("link[rel='icon']").get_attribute("href")
    assert icon
    served = page.request.get(base_url_for(icon))
    assert served.status == 200
    assert served.headers["content-type"].startswith("image/svg+xml")

    # And the address browsers try where a page names none leads to the same icon
    answer = page.request.get(base_url_for("/favicon.ico"))
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.body() == served.body()
