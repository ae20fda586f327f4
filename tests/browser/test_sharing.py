"""The Sharing tab: the owner grants access through the autocomplete; others read it."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import SIMPLE_DEFINITION, client_for


def _workflow_of(user: Any, name: str = "Shared analysis") -> str:
    response = client_for(user).post(
        "/api/v1/workflows", {**SIMPLE_DEFINITION, "name": name}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_owner_grants_read_and_the_reader_finds_it_shared(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    bob = make_user("bob", first_name="Bob", last_name="Builder")
    workflow_id = _workflow_of(alice)
    base = base_url_for("").rstrip("/")

    sign_in(page, base, alice)
    page.goto(f"{base}/workflows/{workflow_id}/sharing/")
    expect(page.get_by_role("link", name="Sharing")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Only the owner has access")).to_be_visible()
    page.get_by_role("combobox", name="Person or team").fill("bo")
    page.get_by_role("option", name=re.compile("bob")).click()
    expect(page.get_by_role("combobox", name="Person or team")).to_have_value("bob")
    page.get_by_role("button", name="Grant access").click()
    row = page.get_by_role("row", name=re.compile("^bob"))
    expect(row.get_by_role("checkbox", name="Read for bob")).to_be_checked()
    expect(row.get_by_role("checkbox", name="Execute for bob")).not_to_be_checked()
    _sign_out(page)

    sign_in(page, base, bob)
    page.get_by_label("Shared with me").check()
    page.get_by_role("button", name="Apply").click()
    table = page.get_by_role("table", name="Workflows")
    expect(table.get_by_role("link", name="Shared analysis")).to_be_visible()
    expect(table).to_contain_text("alice")


def test_owner_grants_a_team_and_revokes_a_person(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    make_user("bob")
    api = client_for(alice)
    team = api.post("/api/v1/teams", {"name": "crystallography"}, format="json").json()
    workflow_id = _workflow_of(alice)
    api.post(f"/api/v1/workflows/{workflow_id}/permissions", {"read": ["bob"]}, format="json")
    base = base_url_for("").rstrip("/")

    sign_in(page, base, alice)
    page.goto(f"{base}/workflows/{workflow_id}/sharing/")
    page.get_by_role("combobox", name="Person or team").fill("crystal")
    page.get_by_role("option", name=team["share_as"]).click()
    page.get_by_role("checkbox", name="Execute", exact=True).check()
    page.get_by_role("button", name="Grant access").click()
    team_row = page.get_by_role("row", name=re.compile("^crystallography"))
    expect(
        team_row.get_by_role("checkbox", name="Execute for team:crystallography")
    ).to_be_checked()
    page.get_by_role("button", name="Remove access for bob").click()
    expect(page.get_by_role("row", name=re.compile("^bob"))).to_have_count(0)
    grants = api.get(f"/api/v1/workflows/{workflow_id}/permissions").json()
    assert grants["read"] == ["alice", "team:crystallography"]
    assert grants["execute"] == ["alice", "team:crystallography"]


def test_reader_sees_the_sharing_list_read_only(
    page: Any, base_url_for: Any, make_user: Any
) -> None:
    alice = make_user("alice")
    bob = make_user("bob")
    workflow_id = _workflow_of(alice)
    client_for(alice).post(
        f"/api/v1/workflows/{workflow_id}/permissions",
        {"read": ["bob"], "execute": ["bob"]},
        format="json",
    )
    base = base_url_for("").rstrip("/")

    sign_in(page, base, bob)
    page.goto(f"{base}/workflows/{workflow_id}/sharing/")
    expect(page.get_by_text("Only the owner can change who has access")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("^bob"))
    expect(row).to_contain_text("Read: yes")
    expect(row).to_contain_text("Execute: yes")
    expect(row).to_contain_text("Modify: no")
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Grant access")).to_have_count(0)
    expect(page.get_by_test_id("workflow-owner")).to_have_text("alice")
