"""Thin views: ``/healthz``, ``/readyz``, ``/metrics`` and the staff workers page."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.views import APIView

from executions.operations import health
from executions.operations.metrics import engine_collector_register
from executions.operations.overview import RegistryUnavailable, workers_overview


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up: no database, no Redis."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, else 503; the body says which failed and why."""
    ready, body = health.readiness()
    return JsonResponse(body, status=200 if ready else 503)


def _exposition(request: HttpRequest) -> HttpResponse:
    engine_collector_register()
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(REGISTRY), content_type=content_type)


class _StaffMetricsView(APIView):
    """``/metrics`` for a staff user (session or API token)."""

    permission_classes = [IsAdminUser]

    def get(self, request: Request) -> HttpResponse:
        return _exposition(request._request)


_staff_metrics = _StaffMetricsView.as_view()


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition. With ``PRSM_METRICS_TOKEN`` set, a scraper sends it as
    ``Authorization: Bearer <token>``; staff (signed in, or with an API token) may
    always read it; anyone else gets 401/403."""
    token = settings.PRSM_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if (
        token
        and request.method == "GET"
        and sent.startswith("Bearer ")
        and hmac.compare_digest(sent.removeprefix("Bearer ").strip().encode(), token.encode())
    ):
        return _exposition(request)
    response: HttpResponse = _staff_metrics(request)
    return response


@login_required
def workers_page(request: HttpRequest) -> HttpResponse:
    """Staff only (others: 404): the live workers, the queues and their consumers."""
    if not request.user.is_staff:
        raise Http404
    try:
        overview = workers_overview()
        unavailable = None
    except RegistryUnavailable as exc:
        overview, unavailable = {"workers": [], "queues": [], "unregistered": []}, exc.message
    return render(request, "pages/workers.html", {"overview": overview, "unavailable": unavailable})
