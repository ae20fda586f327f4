"""Built-in templates shipped as YAML files in ``workflows/builtin_templates``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from workflows.models import Template

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin_templates"


def builtin_template_documents() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(BUILTIN_DIR.glob("*.yaml"))]


@transaction.atomic
def builtin_templates_load() -> list[Template]:
    """Create or refresh every built-in template (idempotent, keyed by slug)."""
    loaded = []
    for doc in builtin_template_documents():
        template, _ = Template.objects.update_or_create(
            slug=doc["slug"],
            defaults={
                "name": doc["name"],
                "description": doc.get("description", ""),
                "category": doc.get("category", "general"),
                "parameters": doc.get("parameters", []),
                "steps_template": doc["steps_template"],
                "extras": doc.get("extras", {}),
                "owner": None,
                "is_public": True,
                "is_builtin": True,
            },
        )
        loaded.append(template)
    return loaded
