"""The insight pages through Django's test client: the workflow's Analytics tab, the
usage page and the audit page.

alice owns the workflow; bob is on her team and gets one grant at a time; charlie
has no access; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.test_pages import browser_for, grant, island_props


@pytest.mark.parametrize("path", ["/usage/", "/audit/"])
def test_anonymous_visitor_is_sent_to_sign_in(db: Any, path: str) -> None:
    response = browser_for(None).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_anonymous_visitor_of_the_analytics_tab_is_sent_to_sign_in(alice_workflow: str) -> None:
    response = browser_for(None).get(f"/workflows/{alice_workflow}/analytics/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_charlie_without_access_gets_404_on_alices_analytics(
    charlie: Any, alice_workflow: str
) -> None:
    response = browser_for(charlie).get(f"/workflows/{alice_workflow}/analytics/")
    assert response.status_code == 404


def test_owner_sees_the_analytics_island_and_may_modify(alice: Any, alice_workflow: str) -> None:
    response = browser_for(alice).get(f"/workflows/{alice_workflow}/analytics/")
    assert response.status_code == 200
    assert island_props(response, "analytics-root") == {
        "workflowId": alice_workflow,
        "canModify": True,
    }
    assert "Analytics arrive with" not in response.content.decode()  # the placeholder is gone


def test_reader_sees_the_analytics_but_may_not_modify(
    alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    grant(alice_api, alice_workflow, read=["bob"])
    response = browser_for(bob).get(f"/workflows/{alice_workflow}/analytics/")
    assert response.status_code == 200
    assert island_props(response, "analytics-root") == {
        "workflowId": alice_workflow,
        "canModify": False,
    }


def test_editor_may_modify_from_the_analytics_tab(
    alice_api: Any, bob: Any, alice_workflow: str
) -> None:
    grant(alice_api, alice_workflow, read=["bob"], modify=["bob"])
    response = browser_for(bob).get(f"/workflows/{alice_workflow}/analytics/")
    assert island_props(response, "analytics-root")["canModify"] is True


def test_signed_in_user_sees_the_usage_page(charlie: Any) -> None:
    response = browser_for(charlie).get("/usage/")
    assert response.status_code == 200
    assert island_props(response, "usage-root") == {}
    assert "Resource usage" in response.content.decode()


@pytest.mark.parametrize(("staff", "expected"), [(False, False), (True, True)])
def test_audit_page_says_whether_the_user_is_staff(
    django_user_model: Any, staff: bool, expected: bool
) -> None:
    user = django_user_model.objects.create_user("dana", password="x-pw-123!", is_staff=staff)
    response = browser_for(user).get("/audit/")
    assert response.status_code == 200
    assert island_props(response, "audit-root") == {"isStaff": expected}


def test_main_navigation_links_usage_and_audit_and_marks_the_current_page(charlie: Any) -> None:
    body = browser_for(charlie).get("/usage/").content.decode()
    assert 'href="/usage/"' in body
    assert 'href="/audit/"' in body
    assert 'href="/usage/" class="rounded-md px-2.5 py-1.5 font-medium' in body
    usage_link = body.split('href="/usage/"', 1)[1].split(">", 1)[0]
    assert 'aria-current="page"' in usage_link
