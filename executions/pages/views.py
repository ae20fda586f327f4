"""Run page views: authorize, read, render."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from executions.models import ExecutionStatus
from executions.selectors import ExecutionNotFound, execution_get, executions_for_workflow
from workflows.pages.views import props_json, querystring, workflow_or_404, workflow_shell

RUNS_PAGE_SIZE = 25


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


@login_required
def workflow_runs(request: HttpRequest, workflow_id: str) -> HttpResponse:
    workflow = workflow_or_404(request, workflow_id)
    status = request.GET.get("status", "")
    if status not in ExecutionStatus.values():
        status = ""
    runs = executions_for_workflow(workflow=workflow, status=status or None)
    page = Paginator(runs, RUNS_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    now = timezone.now()
    for run in page.object_list:
        end = run.completed_at or (None if run.is_terminal else now)
        run.duration_text = _duration_text(run.started_at, end)  # type: ignore[attr-defined]
    context = workflow_shell(
        request,
        workflow,
        "runs",
        page=page,
        status=status,
        statuses=ExecutionStatus.choices(),
        filters_qs=querystring({"status": status}),
    )
    return render(request, "workflows/runs.html", context)


@login_required
def run_detail(request: HttpRequest, workflow_id: str, execution_id: str) -> HttpResponse:
    workflow = workflow_or_404(request, workflow_id)
    try:
        execution = execution_get(workflow=workflow, public_id=execution_id)
    except ExecutionNotFound:
        raise Http404("No such run of this workflow.") from None
    context = workflow_shell(request, workflow, "runs", execution=execution)
    context["run_props"] = props_json(
        workflowId=workflow.public_id,
        executionId=execution.public_id,
        canExecute="execute" in context["actions"],
    )
    return render(request, "workflows/run_detail.html", context)
