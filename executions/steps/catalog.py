"""The engine's step catalog, as the workflows layer reads it (``workflows.registry``).

Read live from the engine's tables (``functions.FUNCTIONS``/``SPECS``,
``generators.GENERATORS``), so a function or generator registered later — by another
app, or by a test — is known at once. ``ExecutionsConfig.ready`` registers it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from executions.steps import functions, generators, huggingface
from workflows.models import ModelEndpoint


class EngineStepCatalog:
    """``workflows.registry.StepCatalog`` over the engine's registries."""

    def function_names(self) -> Collection[str]:
        return frozenset(functions.FUNCTIONS)

    def functions(self) -> list[dict[str, Any]]:
        return functions.function_catalog()

    def function_parameter_errors(self, name: str, parameters: Any) -> list[str]:
        return functions.validate_parameters(name, parameters)

    def generator_names(self) -> Collection[str]:
        return frozenset(generators.GENERATORS)

    def generators(self) -> list[dict[str, Any]]:
        return generators.generator_catalog()

    def model_availability(self, *, provider: str, model: str) -> tuple[bool, str] | None:
        if provider == ModelEndpoint.Provider.HUGGINGFACE:
            return huggingface.availability(model)
        return None
