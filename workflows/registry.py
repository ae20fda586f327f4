"""What the engine tells this app: a registry that workflows owns and executions fills.

``executions`` imports ``workflows``, never the reverse (an import-linter contract in
``pyproject.toml`` keeps it so). Yet checking a definition needs the step catalog —
the functions steps may call and their parameter schemas, the generators of dynamic
workflows, whether a provider can serve a model — and the workflow pages show what
runs did: the latest run, an estimate from run history, this month's cost. Those
live in the engine, which registers them here when its app is ready
(``executions.apps.ExecutionsConfig.ready``: registration only, no logic).

Without an engine (``workflows`` alone) the catalog is empty and no workflow has runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.db.models import CharField, DateTimeField, Field, Subquery, Value

if TYPE_CHECKING:
    from workflows.definition.estimate import Estimate
    from workflows.definition.schema import WorkflowDefinition
    from workflows.models import Workflow

#: What ``RunHistory.latest_run`` reads of a workflow's newest run.
LatestRunField = Literal["id", "status", "at"]


class StepCatalog(Protocol):
    """The functions and generators steps may name, as the engine registers them."""

    def function_names(self) -> Collection[str]: ...

    def functions(self) -> list[dict[str, Any]]:
        """Each function: name, description, parameters (JSON Schema), input, output."""
        ...

    def function_parameter_errors(self, name: str, parameters: Any) -> list[str]:
        """What is wrong with ``parameters`` of a registered function (empty: nothing)."""
        ...

    def generator_names(self) -> Collection[str]: ...

    def generators(self) -> list[dict[str, Any]]: ...

    def model_availability(self, *, provider: str, model: str) -> tuple[bool, str] | None:
        """Whether this process could serve ``model`` through ``provider`` now (and if
        not, what to configure); None when the engine has no check for the provider."""
        ...


class SourcedEstimate(Protocol):
    @property
    def estimate(self) -> Estimate: ...

    @property
    def source(self) -> str: ...


class RunHistory(Protocol):
    """What the workflow pages and API show of a workflow's runs."""

    def latest_run(self, *, field: LatestRunField, include_test: bool) -> Subquery | Value:
        """An expression to annotate workflows with: the public id, status or creation
        time of the newest run of the workflow ``OuterRef("pk")`` (None without runs)."""
        ...

    def estimate(
        self, *, workflow: Workflow, definition: WorkflowDefinition, user: Any
    ) -> SourcedEstimate | None:
        """An estimate of one run of ``definition`` informed by ``workflow``'s runs."""
        ...

    def cost_since(self, *, workflow: Workflow, since: datetime) -> Decimal:
        """What the workflow's real (non-test) runs created since ``since`` cost."""
        ...


class _NoSteps:
    def function_names(self) -> Collection[str]:
        return ()

    def functions(self) -> list[dict[str, Any]]:
        return []

    def function_parameter_errors(self, name: str, parameters: Any) -> list[str]:
        return [f"There is no function '{name}'."]

    def generator_names(self) -> Collection[str]:
        return ()

    def generators(self) -> list[dict[str, Any]]:
        return []

    def model_availability(self, *, provider: str, model: str) -> tuple[bool, str] | None:
        return None


_OUTPUT: dict[str, type[Field[Any, Any]]] = {
    "id": CharField,
    "status": CharField,
    "at": DateTimeField,
}


class _NoRuns:
    def latest_run(self, *, field: LatestRunField, include_test: bool) -> Subquery | Value:
        return Value(None, output_field=_OUTPUT[field]())

    def estimate(
        self, *, workflow: Workflow, definition: WorkflowDefinition, user: Any
    ) -> SourcedEstimate | None:
        return None

    def cost_since(self, *, workflow: Workflow, since: datetime) -> Decimal:
        return Decimal(0)


#: Sends one channel-layer message to each of the groups (``workflows.access``).
NoticePublisher = Callable[[tuple[str, ...], dict[str, Any]], None]


def _no_streams(groups: tuple[str, ...], message: dict[str, Any]) -> None:
    """Without the engine there are no websocket streams to tell."""


_step_catalog: StepCatalog = _NoSteps()
_run_history: RunHistory = _NoRuns()
_notice_publisher: NoticePublisher = _no_streams


def step_catalog_register(catalog: StepCatalog) -> None:
    global _step_catalog
    _step_catalog = catalog


def run_history_register(history: RunHistory) -> None:
    global _run_history
    _run_history = history


def notice_publisher_register(publisher: NoticePublisher) -> None:
    global _notice_publisher
    _notice_publisher = publisher


def notice_publisher() -> NoticePublisher:
    return _notice_publisher


def step_catalog() -> StepCatalog:
    return _step_catalog


def run_history() -> RunHistory:
    return _run_history
