"""deploy/ says what the app needs: the compose file's processes and settings agree
with the app's own rules (one queue declaration, a consumer for every queue, one
beat, a Redis that never evicts, a storage URL the settings accept)."""

from __future__ import annotations

import configparser
import json
from pathlib import Path
from typing import Any

import yaml

from prsm_site.env import storage_from_url
from tests.engine import ROOT

DEPLOY = ROOT / "deploy"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_every_app_service_shares_one_environment_and_every_queue_has_a_worker() -> None:
    services = _compose()["services"]
    app = {name: s for name, s in services.items() if s.get("image") == "prsm-workflows:latest"}
    assert {"migrate", "web", "beat", "worker-default", "worker-notifications"} <= set(app)
    environments = [json.dumps(s["environment"], sort_keys=True) for s in app.values()]
    assert len(set(environments)) == 1  # one anchor: no service can differ

    env = next(iter(app.values()))["environment"]
    declared = [q["name"] for q in json.loads(env["PRSM_WORKER_QUEUES"])]
    workers = {n: s["command"] for n, s in app.items() if s["command"][3:4] == ["worker"]}
    consumed = {q for c in workers.values() for q in _option(c, "-Q").split(",")}
    assert consumed == {*declared, "notifications"}
    nodes = [_option(c, "-n") for c in workers.values()]
    assert all(node.endswith("@%h") for node in nodes) and len(set(nodes)) == len(nodes)

    assert [n for n, s in app.items() if s["command"][3:4] == ["beat"]] == ["beat"]
    assert services["web"]["deploy"]["replicas"] >= 2
    assert "queues --declare" in " ".join(services["migrate"]["command"])

    storage = storage_from_url(env["PRSM_STORAGE_URL"])
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["endpoint_url"] == "http://minio:9000"


def test_the_compose_redis_never_evicts_and_the_proxy_forwards_what_the_app_reads() -> None:
    redis_command = _compose()["services"]["redis"]["command"]
    assert _option(redis_command, "--maxmemory-policy") == "noeviction"
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto https;" in nginx  # SECURE_PROXY_SSL_HEADER
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx  # the websockets


def test_the_systemd_units_run_the_documented_commands() -> None:
    def unit(name: str) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string((DEPLOY / "systemd" / name).read_text().replace("\\\n", " "))
        return parser

    web = unit("prsm-web@.service")["Service"]
    assert "daphne -b 127.0.0.1 -p %i prsm_site.asgi:application" in web["ExecStart"]
    worker = unit("prsm-worker@.service")["Service"]
    assert "worker -n %i@%H -Q %i" in worker["ExecStart"]
    for service in (web, worker):
        assert service["RestartPreventExitStatus"] == "78"  # EXIT_QUEUES_DIFFER
        assert service["EnvironmentFile"] == "/etc/prsm/prsm.env"
    assert "beat" in unit("prsm-beat.service")["Service"]["ExecStart"]
    documented = (ROOT / "docs" / "deploy.md").read_text()
    for path in sorted((DEPLOY / "systemd").iterdir()):
        assert f"`{path.name.replace('@.service', '@')}" in documented, path.name
    assert Path(DEPLOY / "prsm.env.example").read_text().count("DEBUG=0") == 1
