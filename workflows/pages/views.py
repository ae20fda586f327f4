"""Page views: authorize, read, render. Islands get their props as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from executions.models import ExecutionStatus
from executions.selectors import ExecutionNotFound, execution_get, executions_for_workflow
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
RUNS_PAGE_SIZE = 25


def _props(**props: Any) -> str:
    return json.dumps(props)


def _querystring(params: dict[str, Any]) -> str:
    """The current filters as a query string, without the page number."""
    return urlencode({k: v for k, v in params.items() if v not in ("", None, False)})


def _duration_text(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    seconds = max((end - start).total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


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
            "filters_qs": _querystring(filters),
        },
    )


# --- the workflow pages: one shell, one tab each ----------------------------------------


def _workflow_or_404(request: HttpRequest, workflow_id: str) -> Workflow:
    try:
        return selectors.workflow_get(user=request.user, public_id=workflow_id)
    except selectors.WorkflowNotFound:
        raise Http404("Not found, or you do not have access to it.") from None


def _shell(request: HttpRequest, workflow: Workflow, tab: str, **extra: Any) -> dict[str, Any]:
    actions = workflow_actions(request.user, workflow)
    return {
        "workflow": workflow,
        "tab": tab,
        "actions": {a.value for a in actions},
        "actions_text": ", ".join(a.value for a in Action if a in actions),
        "is_owner": workflow.owner_id == request.user.pk,
        "launcher_props": _props(
            workflowId=workflow.public_id, canExecute=Action.EXECUTE in actions
        ),
        **extra,
    }


@login_required
def workflow_new(request: HttpRequest) -> HttpResponse:
    props = _props(workflowId=None, canModify=True, canExecute=False, canDelete=False)
    return render(request, "workflows/new.html", {"editor_props": props})


@login_required
def workflow_editor(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = _workflow_or_404(request, workflow_id)
    context = _shell(request, workflow, "editor")
    actions = context["actions"]
    context["editor_props"] = _props(
        workflowId=workflow.public_id,
        canModify="modify" in actions,
        canExecute="execute" in actions,
        canDelete="delete" in actions,
    )
    return render(request, "workflows/editor.html", context)


@login_required
def workflow_runs(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = _workflow_or_404(request, workflow_id)
    status = request.GET.get("status", "")
    if status not in ExecutionStatus.values:
        status = ""
    runs = executions_for_workflow(workflow=workflow, status=status or None)
    page = Paginator(runs, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    now = timezone.now()
    for run in page.object_list:
        end = run.completed_at or (None if run.is_terminal else now)
        run.duration_text = _duration_text(run.started_at, end)  # type: ignore[attr-defined]
    context = _shell(
        request,
        workflow,
        "runs",
        page=page,
        status=status,
        statuses=ExecutionStatus.choices,
        filters_qs=_querystring({"status": status}),
    )
    return render(request, "workflows/runs.html", context)


@login_required
def run_detail(request: HttpRequest, workflow_id: str, execution_id: str) -> HttpResponse:
    workflow = _workflow_or_404(request, workflow_id)
    try:
        execution = execution_get(workflow=workflow, public_id=execution_id)
    except ExecutionNotFound:
        raise Http404("No such run of this workflow.") from None
    context = _shell(request, workflow, "runs", execution=execution)
    context["run_props"] = _props(
        workflowId=workflow.public_id,
        executionId=execution.public_id,
        canExecute="execute" in context["actions"],
    )
    return render(request, "workflows/run_detail.html", context)


@login_required
def workflow_versions(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = _workflow_or_404(request, workflow_id)
    context = _shell(request, workflow, "versions")
    context["versions_props"] = _props(
        workflowId=workflow.public_id, canModify="modify" in context["actions"]
    )
    return render(request, "workflows/versions.html", context)


@login_required
def workflow_sharing(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = _workflow_or_404(request, workflow_id)
    context = _shell(request, workflow, "sharing")
    context["sharing_props"] = _props(
        workflowId=workflow.public_id,
        isOwner=context["is_owner"],
        owner=workflow.owner.get_username(),
    )
    return render(request, "workflows/sharing.html", context)


@login_required
def workflow_analytics(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = _workflow_or_404(request, workflow_id)
    return render(request, "workflows/analytics.html", _shell(request, workflow, "analytics"))


# --- the pages outside a workflow --------------------------------------------------------


@login_required
def template_gallery(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/gallery.html", {"props": _props()})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/tokens.html", {"props": _props()})


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    return render(
        request, "pages/teams.html", {"props": _props(username=request.user.get_username())}
    )
