"""Websocket URLs (mounted by ``prsm_site.asgi``). The trailing slash is optional."""

from __future__ import annotations

from django.urls import re_path

from executions.consumers import ExecutionConsumer, NotFoundConsumer, WorkflowConsumer

_PUBLIC_ID = r"[A-Za-z0-9_-]{1,64}"

websocket_urlpatterns = [
    re_path(
        rf"^ws/executions/(?P<execution_id>{_PUBLIC_ID})/?$",
        ExecutionConsumer.as_asgi(),
        name="ws-execution",
    ),
    re_path(
        rf"^ws/workflows/(?P<workflow_id>{_PUBLIC_ID})/?$",
        WorkflowConsumer.as_asgi(),
        name="ws-workflow",
    ),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
