"""Prometheus metrics for ``/metrics`` (prometheus-client).

Two kinds of series:

- **The engine's, global**: computed at scrape time by ``EngineCollector`` from
  PostgreSQL (step runs by status and queue, executions by status, webhook
  deliveries by outcome) and from the broker's Redis (queue depths, live workers
  per queue, the step duration histogram and the reaper's actions, which workers
  and the beat count there: ``executions.operations.counters``). Any web process
  answers the same numbers.
- **The process's own**: HTTP requests (``RequestMetricsMiddleware``) and live
  websocket connections, counted in the memory of the web process that serves
  them, plus prometheus-client's process and Python series. With several web
  processes, scrape each one (its own port), or sum over ``instance``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import redis
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from executions.operations import counters

logger = logging.getLogger(__name__)

#: The reaper's counts (``reaper.reap``) as the ``action`` label says them.
REAPER_ACTIONS = {
    "republished": "republished",
    "lost_workers": "requeued",
    "stalled": "stalled",
    "queue_timeouts": "queue_timeout",
    "timed_out": "execution_timed_out",
    "advanced": "advanced",
    "webhooks": "webhook_republished",
}

HTTP_REQUESTS = Counter(
    "prsm_http_requests",
    "HTTP requests this process answered, by method, URL pattern and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "prsm_http_request_duration_seconds",
    "Time this process took to answer HTTP requests, by method and URL pattern.",
    ["method", "route"],
)
WEBSOCKETS = Gauge(
    "prsm_websocket_connections",
    "Live-event websocket connections open on this process.",
)


class EngineCollector(Collector):
    """The engine's series, read from the database and Redis at each scrape."""

    def describe(self) -> list[Metric]:
        return []  # nothing at registration: collecting queries the database

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        yield from self._redis()

    def _database(self) -> Iterator[Metric]:
        from executions.models import Execution, StepRun, WebhookDelivery

        steps = GaugeMetricFamily(
            "prsm_step_runs", "Step runs by status and queue.", labels=["status", "queue"]
        )
        for status, queue, n in (
            StepRun.objects.values_list("status", "queue").annotate(n=Count("pk")).order_by()
        ):
            steps.add_metric([status, queue], n)
        yield steps
        executions = GaugeMetricFamily(
            "prsm_executions", "Executions by status.", labels=["status"]
        )
        for status, n in Execution.objects.values_list("status").annotate(n=Count("pk")).order_by():
            executions.add_metric([status], n)
        yield executions
        webhooks = GaugeMetricFamily(
            "prsm_webhook_deliveries",
            "Webhook deliveries by outcome (pending: not yet delivered, retrying).",
            labels=["outcome"],
        )
        found = dict(
            WebhookDelivery.objects.values_list("status").annotate(n=Count("pk")).order_by()
        )
        for outcome in WebhookDelivery.Status.values:
            webhooks.add_metric([outcome], found.get(outcome, 0))
        yield webhooks

    def _redis(self) -> Iterator[Metric]:
        from executions.operations.overview import configured_queues
        from executions.workers import workers_live

        up = GaugeMetricFamily(
            "prsm_redis_up", "1 if the broker's Redis answered this scrape, else 0."
        )
        try:
            workers = workers_live()
            consumed = {q for w in workers for q in w.get("queues") or ()}
            queues = list(dict.fromkeys([*configured_queues(), *sorted(consumed)]))
            depths = counters.queue_depths(queues)
            durations = counters.step_durations()
            actions = counters.reaper_actions()
            last_run = counters.reaper_last_run()
            passes = counters.reaper_passes()
            skipped, _ = counters.reaper_skips()
        except redis.RedisError as exc:
            logger.warning("metrics: the broker's Redis cannot be read: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        depth = GaugeMetricFamily(
            "prsm_queue_depth", "Messages waiting on each Celery queue.", labels=["queue"]
        )
        consumers = GaugeMetricFamily(
            "prsm_queue_consumers", "Live workers consuming each queue.", labels=["queue"]
        )
        for queue in queues:
            depth.add_metric([queue], depths[queue])
            consumers.add_metric([queue], sum(queue in (w.get("queues") or ()) for w in workers))
        yield depth
        yield consumers
        live = GaugeMetricFamily("prsm_workers_live", "Workers whose heartbeat is current.")
        live.add_metric([], len(workers))
        yield live

        histogram = HistogramMetricFamily(
            "prsm_step_duration_seconds",
            "Wall time of step attempts that ran to an outcome, by step type.",
            labels=["step_type"],
        )
        for step_type, raw in durations.items():
            bounds = counters.STEP_SECONDS_BUCKETS
            buckets = [(repr(b), raw.get(f"le:{b}", 0.0)) for b in bounds]
            buckets.append(("+Inf", raw.get("count", 0.0)))
            histogram.add_metric([step_type], buckets, raw.get("sum", 0.0))
        yield histogram

        reaper = CounterMetricFamily(
            "prsm_reaper_actions",
            "What the reaper did: republished lost messages, re-queued steps of lost "
            "workers, failed stalled executions, and the rest.",
            labels=["action"],
        )
        for key, action in REAPER_ACTIONS.items():
            reaper.add_metric([action], actions.get(key, 0))
        yield reaper
        last = GaugeMetricFamily(
            "prsm_reaper_last_run_timestamp_seconds",
            "When the reaper last ran (Unix time; 0: never).",
        )
        last.add_metric([], last_run or 0)
        yield last
        turns = CounterMetricFamily(
            "prsm_reaper_passes",
            "Reaper passes the beat published, by outcome: ran, or skipped because "
            "another beat's pass had the interval (more than one beat runs).",
            labels=["outcome"],
        )
        turns.add_metric(["ran"], passes)
        turns.add_metric(["skipped"], skipped)
        yield turns


_collector: EngineCollector | None = None


def engine_collector_register() -> None:
    """Add the engine's series to prometheus-client's registry (once a process)."""
    global _collector
    if _collector is None:
        _collector = EngineCollector()
        REGISTRY.register(_collector)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"  # a 404 of no URL pattern: one label, not one per path
    return str(match.route or match.view_name or "unmatched")


def _observe(request: HttpRequest, response: HttpResponse, started: float) -> None:
    route = _route(request)
    HTTP_REQUESTS.labels(request.method or "", route, str(response.status_code)).inc()
    HTTP_SECONDS.labels(request.method or "", route).observe(time.perf_counter() - started)


class RequestMetricsMiddleware:
    """Counts and times every request by method, URL pattern and status (sync or async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        _observe(request, response, started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        response = await get_response(request)
        _observe(request, response, started)
        return response
