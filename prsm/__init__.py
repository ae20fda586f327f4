"""PRSM Workflows Python SDK.

    import prsm

    client = prsm.Client(api_key="prsm_...")          # or PRSM_API_KEY / PRSM_BASE_URL
    workflow = client.workflows.create(name="...", steps=[...])
    execution = client.workflows.execute(workflow_id=workflow.id, inputs={...})
    execution.wait()
    print(execution.status, execution.result)

Depends only on ``httpx`` and ``websockets``.
"""

from __future__ import annotations

from typing import Any

import httpx

from prsm._http import DEFAULT_BASE_URL, Transport
from prsm.errors import (
    AuthenticationError,
    ConflictError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    PRSMError,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
)
from prsm.models import (
    Analytics,
    Execution,
    OptimizationResult,
    Page,
    ResourceMetrics,
    ResourceUsage,
    Template,
    ValidationResult,
    Workflow,
)
from prsm.monitor import Monitor, StepError
from prsm.workflows import WorkflowsAPI

__version__ = "0.1.0"


class Client:
    """Entry point: ``prsm.Client(api_key=None, base_url=None)``.

    ``api_key`` defaults to ``$PRSM_API_KEY``; ``base_url`` to ``$PRSM_BASE_URL`` or
    ``http://127.0.0.1:8000``. The API root is ``{base_url}/api/v1``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_tries: int = 3,
        backoff: float = 0.25,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._transport = Transport(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_tries=max_tries,
            backoff=backoff,
            http_client=http_client,
        )
        self.workflows = WorkflowsAPI(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def api_key(self) -> str | None:
        return self._transport.api_key

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = [
    "DEFAULT_BASE_URL",
    "Analytics",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "Execution",
    "Monitor",
    "NetworkError",
    "NotFoundError",
    "OptimizationResult",
    "PRSMError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "ResourceMetrics",
    "ResourceUsage",
    "ServerError",
    "StepError",
    "Template",
    "ValidationError",
    "ValidationResult",
    "WaitTimeoutError",
    "Workflow",
    "WorkflowsAPI",
]
