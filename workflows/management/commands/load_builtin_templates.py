from typing import Any

from django.core.management.base import BaseCommand

from workflows.builtin import builtin_templates_load


class Command(BaseCommand):
    help = "Create or refresh the built-in workflow templates."

    def handle(self, *args: Any, **options: Any) -> None:
        templates = builtin_templates_load()
        self.stdout.write(f"{len(templates)} built-in templates loaded.")
