"""Resolving a step's references against an execution's values (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.definition.references import Reference, ReferenceResolutionError, get_path, render

_NO_ITEM = object()


@dataclass
class Scope:
    """What references may read while one step runs."""

    inputs: Mapping[str, Any]
    results: Mapping[str, Any]
    secrets: Mapping[str, str] = field(default_factory=dict)
    loop_item: Any = _NO_ITEM
    loop_index: int | None = None

    def lookup(self, ref: Reference) -> Any:
        if ref.kind == "workflow_input":
            if ref.name not in self.inputs:
                raise ReferenceResolutionError(
                    f"{ref.raw}: the execution has no input '{ref.name}'", reference=ref.raw
                )
            return get_path(self.inputs[ref.name], ref.path, reference=ref.raw)
        if ref.kind == "step":
            if ref.name not in self.results:
                raise ReferenceResolutionError(
                    f"{ref.raw}: step '{ref.name}' has no result", reference=ref.raw
                )
            return get_path(self.results[ref.name], ref.path, reference=ref.raw)
        if ref.kind == "loop":
            if self.loop_item is _NO_ITEM:
                raise ReferenceResolutionError(f"{ref.raw}: not inside a loop", reference=ref.raw)
            if ref.name == "index":
                return self.loop_index
            return get_path(self.loop_item, ref.path, reference=ref.raw)
        if ref.kind == "secret":
            if ref.name not in self.secrets:
                raise ReferenceResolutionError(
                    f"{ref.raw}: no secret named '{ref.name}' was given", reference=ref.raw
                )
            return self.secrets[ref.name]
        raise ReferenceResolutionError(
            f"{ref.raw}: template parameters are replaced when a template is instantiated",
            reference=ref.raw,
        )

    def render(self, value: Any) -> Any:
        return render(value, self.lookup)

    def as_lookup(self) -> Callable[[Reference], Any]:
        return self.lookup
