"""``GET /api/v1/workers``: the live workers and the queues, for staff."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.operations.overview import workers_overview


class WorkerSerializer(serializers.Serializer):
    node = serializers.CharField(help_text="Celery node name (name@host), as step runs record it.")
    host = serializers.CharField(help_text="The machine's host name.")
    queues = serializers.ListField(child=serializers.CharField())
    concurrency = serializers.IntegerField()
    pid = serializers.IntegerField(allow_null=True)
    last_heartbeat = serializers.DateTimeField(allow_null=True)
    running_steps = serializers.IntegerField(help_text="Step runs running on it now.")


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    configured = serializers.BooleanField(
        help_text="Declared (PRSM_WORKER_QUEUES) or a task route, so some worker must consume it."
    )
    depth = serializers.IntegerField(help_text="Messages waiting on it.")
    consumers = serializers.ListField(child=serializers.CharField(), help_text="Node names.")
    warning = serializers.CharField(allow_null=True, help_text="Set when nobody consumes it.")


class UnregisteredSerializer(serializers.Serializer):
    node = serializers.CharField()
    running_steps = serializers.IntegerField()


class WorkersOverviewSerializer(serializers.Serializer):
    workers = WorkerSerializer(many=True)
    queues = QueueSerializer(many=True)
    unregistered = UnregisteredSerializer(
        many=True,
        help_text="Nodes that step runs are running on but that have no live heartbeat "
        "(a lost worker, until the reaper re-queues its steps).",
    )


class WorkersView(APIView):
    error_statuses = (503,)  # the broker's Redis, which holds the registry, is down
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="workers_list",
        responses={200: WorkersOverviewSerializer},
        description="Staff only. Each live worker (Celery node name, host, queues, "
        "concurrency, last heartbeat, steps running now) and each queue (depth, "
        "consumers, and a warning when no live worker consumes it). 503 when the "
        "broker's Redis cannot be read.",
    )
    def get(self, request: Request) -> Response:
        return Response(workers_overview())
