"""Insight pages: a workflow's Analytics tab, resource usage and the audit log.

Thin like the other page views: authorize, then render a template whose React island
(``frontend/src/insights``) reads the observability API. Who sees which numbers is
decided by the API (analytics need read access; usage covers the workflows the
caller may read; the audit log shows staff everything and others their own).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workflows.pages.views import props_json, workflow_or_404, workflow_shell


@login_required
def workflow_analytics(request: HttpRequest, workflow_id: str) -> HttpResponse:
    """The Analytics tab: ``#analytics-root`` {workflowId, canModify}."""
    workflow = workflow_or_404(request, workflow_id)
    context = workflow_shell(request, workflow, "analytics")
    context["analytics_props"] = props_json(
        workflowId=workflow.public_id, canModify="modify" in context["actions"]
    )
    return render(request, "workflows/analytics.html", context)


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    """``#usage-root`` {}: CPU/RAM/GPU hours and cost by workflow, user, team or model."""
    return render(request, "pages/usage.html", {"props": props_json()})


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    """``#audit-root`` {isStaff}: who did what to which workflow or run."""
    is_staff = bool(request.user.is_staff or request.user.is_superuser)
    return render(request, "pages/audit.html", {"props": props_json(isStaff=is_staff)})
