"""Page views: authorize, read, render. Islands get their props as JSON.

The run pages (a workflow's Runs tab, one run) are the executions app's
(``executions.pages``), built on the shell and helpers here.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import urlencode

from workflows import selectors
from workflows.models import Workflow
from workflows.pages.queries import (
    SORTS,
    WORKFLOW_STATUSES,
    ListQuery,
    workflow_actions,
    workflow_rows,
)
from workflows.permissions import Action

LIST_PAGE_SIZE = 25


def props_json(**props: Any) -> str:
    """An island's props, for its ``data-props`` attribute."""
    return json.dumps(props)


def querystring(params: dict[str, Any]) -> str:
    """The current filters as a query string, without the page number."""
    return urlencode({k: v for k, v in params.items() if v not in ("", None, False)})


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for where a page names no icon (the API
    docs, the admin): the icon every page names, ``static/favicon.svg``."""
    return redirect(static("favicon.svg"))


@login_required
def models(request: HttpRequest) -> HttpResponse:
    """``#models-root`` {isStaff}: the models the caller's steps may name, what each
    does, and a button that sends one a tiny request."""
    is_staff = bool(request.user.is_staff or request.user.is_superuser)
    return render(request, "pages/models.html", {"props": props_json(isStaff=is_staff)})


class SignOutView(auth_views.LogoutView):
    """Django's sign-out (POST only), with a banner on the sign-in page it leads to."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    query = ListQuery.from_params(request.GET)
    page = Paginator(workflow_rows(user=request.user, query=query), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    filters = {
        "q": query.search,
        "status": query.status,
        "sort": "" if query.sort == "-updated_at" else query.sort,
        "shared": "1" if query.shared else "",
    }
    return render(
        request,
        "home.html",
        {
            "page": page,
            "query": query,
            "sorts": SORTS,
            "statuses": WORKFLOW_STATUSES,
            "filters_qs": querystring(filters),
        },
    )


# --- the workflow pages: one shell, one tab each ----------------------------------------


def workflow_or_404(request: HttpRequest, workflow_id: str) -> Workflow:
    """The workflow the caller may read, or a 404 page."""
    try:
        return selectors.workflow_get(user=request.user, public_id=workflow_id)
    except selectors.WorkflowNotFound:
        raise Http404("Not found, or you do not have access to it.") from None


def workflow_shell(
    request: HttpRequest, workflow: Workflow, tab: str, **extra: Any
) -> dict[str, Any]:
    """The context every tab of a workflow's page shares, plus ``extra``."""
    actions = workflow_actions(request.user, workflow)
    return {
        "workflow": workflow,
        "tab": tab,
        "actions": {a.value for a in actions},
        "actions_text": ", ".join(a.value for a in Action if a in actions),
        "is_owner": workflow.owner_id == request.user.pk,
        "launcher_props": props_json(
            workflowId=workflow.public_id, canExecute=Action.EXECUTE in actions
        ),
        **extra,
    }


@login_required
def workflow_new(request: HttpRequest) -> HttpResponse:
    props = props_json(
        workflowId=None,
        canModify=True,
        canExecute=False,
        canDelete=False,
        userId=request.user.pk,
    )
    return render(request, "workflows/new.html", {"editor_props": props})


@login_required
def workflow_editor(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = workflow_or_404(request, workflow_id)
    context = workflow_shell(request, workflow, "editor")
    actions = context["actions"]
    context["editor_props"] = props_json(
        workflowId=workflow.public_id,
        canModify="modify" in actions,
        canExecute="execute" in actions,
        canDelete="delete" in actions,
        userId=request.user.pk,  # whose panel choices the editor remembers
    )
    return render(request, "workflows/editor.html", context)


@login_required
def workflow_versions(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = workflow_or_404(request, workflow_id)
    context = workflow_shell(request, workflow, "versions")
    context["versions_props"] = props_json(
        workflowId=workflow.public_id, canModify="modify" in context["actions"]
    )
    return render(request, "workflows/versions.html", context)


@login_required
def workflow_sharing(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = workflow_or_404(request, workflow_id)
    context = workflow_shell(request, workflow, "sharing")
    context["sharing_props"] = props_json(
        workflowId=workflow.public_id,
        isOwner=context["is_owner"],
        owner=workflow.owner.get_username(),
    )
    return render(request, "workflows/sharing.html", context)


@login_required
def workflow_analytics(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = workflow_or_404(request, workflow_id)
    return render(
        request, "workflows/analytics.html", workflow_shell(request, workflow, "analytics")
    )


# --- the pages outside a workflow --------------------------------------------------------


@login_required
def template_gallery(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/gallery.html", {"props": props_json()})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/tokens.html", {"props": props_json()})


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    return render(
        request, "pages/teams.html", {"props": props_json(username=request.user.get_username())}
    )
