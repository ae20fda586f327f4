"""What an installation offers that a definition may name: the catalog views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class QueueCapacity(Protocol):
    """What a worker queue offers a step routed to it."""

    @property
    def cpu_cores(self) -> float: ...
    @property
    def ram_gb(self) -> float: ...
    @property
    def gpu(self) -> bool: ...


class CatalogView(Protocol):
    """What this installation offers: models, functions and worker queues.

    An empty collection means "unknown here", and nothing is checked against it.
    """

    @property
    def models(self) -> frozenset[str]: ...
    @property
    def functions(self) -> frozenset[str]: ...
    @property
    def queues(self) -> Sequence[QueueCapacity]: ...
    @property
    def strict(self) -> bool: ...


@dataclass(frozen=True)
class WorkerQueueSpec:
    """A simple :class:`QueueCapacity`."""

    name: str
    cpu_cores: float
    ram_gb: float
    gpu: bool = False


@dataclass(frozen=True)
class Catalog:
    """A :class:`CatalogView`. The default knows nothing, so it checks nothing.

    ``generators`` (optional on other catalog views) are the generator functions a
    dynamic workflow may name; an unknown one is always an error, since nothing
    could run. ``renamed_models`` (optional too) pairs old model names that still run
    with their new names; a step naming an old one gets a warning.
    """

    models: frozenset[str] = frozenset()
    functions: frozenset[str] = frozenset()
    queues: Sequence[QueueCapacity] = ()
    strict: bool = False
    generators: frozenset[str] = frozenset()
    renamed_models: frozenset[tuple[str, str]] = frozenset()
