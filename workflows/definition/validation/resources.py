"""What steps ask of the installation: models and functions in the catalog, and
resource requirements some worker queue offers."""

from __future__ import annotations

from workflows.definition.schema import InlineStep, ResourceRequirements, Step
from workflows.definition.validation.base import Checks
from workflows.definition.validation.report import RESOURCES
from workflows.definition.validation.wording import suggest


class ResourceChecks(Checks):
    def check_catalog(self, label: str, step_id: str, base: str, body: Step | InlineStep) -> None:
        if self.catalog is None:
            return
        severity = self.catalog_severity()
        model, models = body.model, self.catalog.models
        if model and "${" not in model and models and model not in models:
            self.add(
                RESOURCES,
                severity,
                "unknown_model",
                f"{label} uses the model '{model}', which this installation does not "
                f"offer{suggest(model, models)}.",
                step=step_id,
                field=f"{base}.model",
            )
        renamed = dict(getattr(self.catalog, "renamed_models", ()))
        if model in renamed:
            self.warning(
                RESOURCES,
                "renamed_model",
                f"{label} uses '{model}', the old name of '{renamed[model]}'. It still "
                f"runs; name '{renamed[model]}' instead.",
                step=step_id,
                field=f"{base}.model",
            )
        function, functions = body.function, self.catalog.functions
        if function and "${" not in function and functions and function not in functions:
            self.add(
                RESOURCES,
                severity,
                "unknown_function",
                f"{label} uses the function '{function}', which this installation does not "
                f"offer{suggest(function, functions)}.",
                step=step_id,
                field=f"{base}.function",
            )

    def check_resources(
        self,
        needs: ResourceRequirements,
        step_id: str | None,
        where: str,
        label: str = "The workflow",
    ) -> None:
        queues = list(self.catalog.queues) if self.catalog is not None else []
        if not queues:
            return
        if any(
            q.cpu_cores >= needs.cpu_cores
            and q.ram_gb >= needs.ram_gb
            and (q.gpu or not needs.gpu_required)
            for q in queues
        ):
            return
        gpu = " and a GPU" if needs.gpu_required else ""
        self.warning(
            RESOURCES,
            "no_matching_queue",
            f"{label} asks for {needs.cpu_cores:g} CPU cores, {needs.ram_gb:g} GB RAM{gpu}, "
            "but no worker queue offers that; it can be saved, but starting it is refused "
            "until a queue that does is declared.",
            step=step_id,
            field=where,
        )
