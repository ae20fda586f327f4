"""Server-rendered pages. The full browser app arrives with its own issue."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workflows import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    workflows = selectors.workflow_list(user=request.user)[:100]
    templates = selectors.templates_for_user(request.user)[:100]
    return render(request, "home.html", {"workflows": workflows, "templates": templates})
