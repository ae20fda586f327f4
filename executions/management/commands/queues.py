"""``manage.py queues``: the deployment's recorded queues, and this machine's view.

``--declare`` makes this machine's view (``PRSM_WORKER_QUEUES``,
``CELERY_TASK_ROUTES``) the deployment's; restart every process afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from executions.models import QueueDeclaration
from executions.operations.queues import (
    SINGLETON,
    declaration,
    declaration_record,
    differences,
    process_name,
)


class Command(BaseCommand):
    help = "Show the queues every process must agree on; --declare records this machine's."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--declare",
            action="store_true",
            help="record this machine's queues as the deployment's (then restart every process)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        here = declaration()
        row = QueueDeclaration.objects.filter(pk=SINGLETON).first()
        if options["declare"]:
            declaration_record(by=process_name("manage.py queues --declare"))
            if row is not None and differences(here, row.declared):
                self.stdout.write("Changed: " + "; ".join(differences(here, row.declared)))
            self.stdout.write(json.dumps(here, indent=2))
            self.stdout.write("Recorded. Restart every web and worker process.")
            return
        self.stdout.write("Here:\n" + json.dumps(here, indent=2))
        if row is None:
            self.stdout.write("Nothing recorded yet: the first process to start records its own.")
            return
        self.stdout.write(f"Recorded by {row.recorded_by} at {row.recorded_at:%Y-%m-%d %H:%M:%S}.")
        found = differences(here, row.declared)
        if found:
            raise CommandError("This machine differs: " + "; ".join(found))
        self.stdout.write("This machine agrees.")
