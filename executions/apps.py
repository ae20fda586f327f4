from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"
    verbose_name = "Executions"

    def ready(self) -> None:
        # Registration only: what the workflows layer reads without importing this app
        # (workflows.registry), and this app's exceptions in the error table.
        from executions import errors  # noqa: F401
        from executions.history import EngineRunHistory
        from executions.live import notice_publish
        from executions.operations import startup  # noqa: F401  (check --deploy: prsm.W001)
        from executions.steps.catalog import EngineStepCatalog
        from workflows.registry import (
            notice_publisher_register,
            run_history_register,
            step_catalog_register,
        )

        step_catalog_register(EngineStepCatalog())
        run_history_register(EngineRunHistory())
        notice_publisher_register(notice_publish)
