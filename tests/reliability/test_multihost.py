"""Three worker hosts, one PostgreSQL and one Redis; one host is cut off mid-run.

The hosts are network namespaces (``tests.reliability.netns``), each running a
real Celery worker that reaches the database and the broker only over its own
link; a beat runs the reaper. 100 executions of a workflow that reads an uploaded
PDF (kept on S3-compatible storage: moto's server, reached by every host over its
link) and fans out to three steps run across them. While they run, one host's link
goes down for longer than the stale-heartbeat threshold, then comes back. Then:

- every execution completed, and no step completed twice (one ``step.completed``
  event per step run);
- the steps the cut host was running were run again on the other hosts;
- steps ran on all three hosts;
- ``/readyz`` reported the lost worker (two consumers of ``default``, not three)
  while it was gone.

It prints the executions, the steps each host ran and the time from the cut until
every step the cut host held was done elsewhere. Run by ``make test-multihost``
(``.ci/run`` calls it on PostgreSQL + Redis); needs root and ``ip``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from executions.models import EXECUTION_TERMINAL, Execution, ExecutionEvent, StepRun
from prsm_site.env import storage_from_url
from tests import engine
from tests.conftest import client_for
from tests.engine import ROOT, child_env, purge_queues, wait_for
from tests.executions.helpers import create_workflow
from tests.operations.test_s3_storage import BUCKET, CREDENTIALS, s3_bucket, s3_endpoint  # noqa: F401
from tests.reliability.netns import Host, Network

pytestmark = [pytest.mark.multihost, pytest.mark.django_db(transaction=True)]

HOSTS = 3
EXECUTIONS = 100
PDF = Path(__file__).resolve().parent.parent / "fixtures" / "hello.pdf"
# Short beats, so a lost host is noticed in seconds: heartbeats every second, stale
# after 4, the reaper every second. The cut lasts CUT_SECONDS, well past 4.
TIMING = {
    "PRSM_HEARTBEAT_SECONDS": "1",
    "PRSM_STALE_HEARTBEAT_SECONDS": "4",
    "PRSM_REAPER_INTERVAL_SECONDS": "1",
    "PRSM_WORKER_CONTINUE_SECONDS": "0",
    # A host cut off inside a transaction holds the execution row lock: PostgreSQL
    # ends its session after this, and the other hosts go on.
    "PRSM_DB_IDLE_IN_TRANSACTION_SECONDS": "5",
}
CUT_SECONDS = 10


def _via(url: str, address: str) -> str:
    """``url`` with its host replaced by ``address`` (the port kept)."""
    parts = urlsplit(url)
    auth, _, hostport = parts.netloc.rpartition("@")
    port = hostport.rpartition(":")[2] if ":" in hostport else ""
    netloc = (f"{auth}@" if auth else "") + address + (f":{port}" if port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


class Process:
    """A process of ours (a worker, the beat), its own process group, its log kept."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path):
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "prsm_site", *args]


def _storage_url(endpoint: str) -> str:
    return f"s3://{BUCKET}/multihost?endpoint={endpoint}&region=us-east-1&addressing=path"


@pytest.fixture
def cluster(
    transactional_db: Any,
    s3_bucket: Any,  # noqa: F811 - the fixture imported above
    s3_endpoint: str,  # noqa: F811
    settings: Any,
) -> Iterator[tuple[Network, dict[str, Process]]]:
    """The hosts, their workers and a beat; uploads on S3-compatible storage (moto's
    server) that the test process and every host reach, as deploy/ describes."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.fail(
            "the multi-host test runs on PostgreSQL and a TCP Redis: set DATABASE_URL "
            "and REDIS_URL (.ci/run does)"
        )
    if os.geteuid() != 0:
        pytest.fail("the multi-host test builds network namespaces: it must run as root")
    database = engine.test_database_url()
    purge_queues()
    s3_port = _port(s3_endpoint, 80)
    net = Network.build(
        HOSTS,
        forward_ports=(_port(database, 5432), _port(settings.REDIS_URL, 6379), s3_port),
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": storage_from_url(_storage_url(s3_endpoint)),
    }
    processes: dict[str, Process] = {}
    workdir = Path(settings.VAR_DIR)
    try:
        for i, host in enumerate(net.hosts, start=1):
            env = {
                **child_env(**TIMING),
                "DATABASE_URL": _via(database, net.address),
                "REDIS_URL": _via(settings.REDIS_URL, net.address),
                "PRSM_STORAGE_URL": _storage_url(f"http://{net.address}:{s3_port}"),
                **CREDENTIALS,
            }
            processes[f"host{i}"] = Process(
                host.command(
                    *_celery(
                        "worker",
                        "-P",
                        "prefork",
                        "-c",
                        "2",
                        "-Q",
                        "default",
                        "-n",
                        f"host{i}@multihost",
                        "--without-gossip",
                        "--without-mingle",
                        "--loglevel",
                        "INFO",
                    )
                ),
                env,
                workdir / f"multihost-host{i}.log",
            )
        processes["beat"] = Process(
            _celery("beat", "-s", str(workdir / "multihost-beat-schedule"), "--loglevel", "INFO"),
            child_env(**TIMING),
            workdir / "multihost-beat.log",
        )
        from executions.workers import registry_forget_cache, workers_live

        def all_live() -> bool:
            registry_forget_cache()
            nodes = {w["node"] for w in workers_live()}
            return {f"host{i}@multihost" for i in range(1, HOSTS + 1)} <= nodes

        wait_for(all_live, timeout=90, interval=0.5, message="a live worker on every host")
        yield net, processes
    finally:
        for process in processes.values():
            process.stop()
        net.close()
        purge_queues()


def _definition() -> dict[str, Any]:
    return {
        "name": "multihost",
        "input_schema": {"doc": {"type": "file"}},
        "steps": [
            {
                "id": "read",
                "type": "data_processing",
                "function": "pdf_to_text",
                "input": "${workflow.input.doc}",
            },
            *(
                {
                    "id": f"part{i}",
                    "type": "data_processing",
                    "function": "sleep",
                    "input": "${read.result}",
                    "parameters": {"seconds": 0.3},
                }
                for i in range(3)
            ),
            {
                "id": "join",
                "type": "data_processing",
                "function": "noop",
                "input": "done",
                "depends_on": ["part0", "part1", "part2"],
            },
        ],
    }


def _readyz_consumers() -> tuple[int | None, list[str]]:
    """What /readyz says: the live consumers of ``default``, and the failing checks."""
    body = Client().get("/readyz").json()
    return body["checks"]["workers"]["queues"].get("default"), body["failing"]


@pytest.mark.timeout(900)
def test_a_host_cut_off_mid_run_loses_nothing_and_repeats_nothing(
    cluster: tuple[Network, dict[str, Process]],
    s3_bucket: Any,  # noqa: F811
    alice: Any,
) -> None:
    net, processes = cluster
    cut_host: Host = net.hosts[-1]
    cut_node = f"host{HOSTS}@multihost"
    pdf = SimpleUploadedFile("paper.pdf", PDF.read_bytes(), content_type="application/pdf")
    upload = client_for(alice).post("/api/v1/files", {"file": pdf}, format="multipart")
    assert upload.status_code == 201, upload.content
    file_id = upload.json()["id"]
    stored = s3_bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert len(stored) == 1, stored  # on the object store, where every host reads it
    wf = create_workflow(alice, _definition())
    api = client_for(alice)
    ids = []
    for _ in range(EXECUTIONS):
        response = api.post(
            f"/api/v1/workflows/{wf}/execute", {"inputs": {"doc": file_id}}, format="json"
        )
        assert response.status_code == 201, response.content
        ids.append(response.json()["execution_id"])

    def running_on_cut_host() -> list[int]:
        return list(
            StepRun.objects.filter(status="running", worker_host=cut_node).values_list(
                "pk", flat=True
            )
        )

    held = wait_for(
        running_on_cut_host, timeout=60, interval=0.05, message=f"a step running on {cut_node}"
    )
    cut_at = time.monotonic()
    cut_host.cut()
    readyz_before = _readyz_consumers()
    consumers_before = readyz_before[0] or 0
    readyz_during_cut: list[tuple[int | None, list[str]]] = []
    try:

        def reported() -> bool:
            readyz_during_cut.append(_readyz_consumers())
            return readyz_during_cut[-1][0] == consumers_before - 1

        try:  # its registry entry lives three heartbeats: gone in about 3 s
            wait_for(reported, timeout=30, interval=0.5, message="/readyz to report it")
        except AssertionError as error:
            raise AssertionError(f"{error}; /readyz said {readyz_during_cut}") from None
        held = sorted(set(held) | set(running_on_cut_host()))

        def held_done_elsewhere() -> bool:
            rows = StepRun.objects.filter(pk__in=held)
            return all(r.status == "completed" and r.worker_host != cut_node for r in rows)

        wait_for(
            held_done_elsewhere,
            timeout=180,  # behind the queued steps on a loaded machine
            interval=0.2,
            message=f"the steps {cut_node} held to be done on the other hosts",
        )
        recovered_after = time.monotonic() - cut_at
        time.sleep(max(0.0, CUT_SECONDS - (time.monotonic() - cut_at)))
    finally:
        cut_host.reconnect()

    def all_ended() -> bool:
        return (
            not Execution.objects.filter(public_id__in=ids)
            .exclude(status__in=EXECUTION_TERMINAL)
            .exists()
        )

    wait_for(all_ended, timeout=240, interval=0.5, message="every execution to end")
    statuses = Counter(Execution.objects.filter(public_id__in=ids).values_list("status", flat=True))
    assert statuses == {"completed": EXECUTIONS}, (
        statuses,
        {name: p.log() for name, p in processes.items()},
    )
    completions = Counter(
        ExecutionEvent.objects.filter(
            execution__public_id__in=ids, type="step.completed"
        ).values_list("execution_id", "step_key")
    )
    twice = {key: n for key, n in completions.items() if n > 1}
    assert not twice, f"steps completed more than once: {twice}"
    assert len(completions) == EXECUTIONS * 5
    for run in StepRun.objects.filter(pk__in=held):
        assert run.worker_host != cut_node
        assert any(e.get("error_type") == "worker_lost" for e in run.attempts_log), run.attempts_log
    per_host = Counter(
        StepRun.objects.filter(execution__public_id__in=ids).values_list("worker_host", flat=True)
    )
    assert set(per_host) == {f"host{i}@multihost" for i in range(1, HOSTS + 1)}, per_host
    assert consumers_before >= HOSTS, readyz_before  # (more if another worker shares Redis)
    assert consumers_before - 1 in [n for n, _ in readyz_during_cut], readyz_during_cut
    print(
        f"\nmulti-host: {EXECUTIONS} executions, {sum(per_host.values())} steps; per host "
        f"{dict(sorted(per_host.items()))}; {len(held)} steps held by the cut host, all done "
        f"elsewhere {recovered_after:.1f} s after the cut (stale after "
        f"{TIMING['PRSM_STALE_HEARTBEAT_SECONDS']} s); /readyz (consumers, failing) before "
        f"{readyz_before}, during the cut {readyz_during_cut}"
    )
