"""The SDK stands alone: it imports nothing of the server (so `pip install ./sdk` works)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sdk_imports_nothing_from_the_server() -> None:
    code = (
        "import sys, prsm, prsm.cli, prsm.monitor\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'rest_framework', 'celery', 'workflows', 'executions', 'prsm_site'})\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "[]"


def test_sdk_distribution_declares_only_client_dependencies() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "sdk" / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]}
    assert names == {"httpx", "websockets"}
    assert project["scripts"]["prsm"] == "prsm.cli:main"
