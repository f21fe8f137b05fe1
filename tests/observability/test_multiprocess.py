"""Several processes, one set of metrics: with PROMETHEUS_MULTIPROC_DIR, each process writes its
values there and /metrics in any of them adds up all of them."""

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from service.observability.metrics import forget_dead_processes
from service.settings import PROJECT_ROOT

SECONDS = 60
HEALTHZ = {"method": "GET", "route": "/healthz", "status": "200"}


def api_process(requests: int, directory: Path) -> str:
    """Run one process answering `requests` requests; its /metrics exposition."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.observability.metrics_process", str(requests)],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=True,
    )
    return done.stdout


def requests_counted(exposition: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "ingrain_http_requests_total" and sample.labels == HEALTHZ:
                return sample.value
    return 0.0


def test_metrics_of_two_processes_are_added_up(tmp_path: Path) -> None:
    first = api_process(2, tmp_path)
    second = api_process(3, tmp_path)
    assert requests_counted(first) == 2
    # The second process's exposition reads the first one's files as well as its own.
    assert requests_counted(second) == 5
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("ingrain_http_requests_total", HEALTHZ) == 5
    assert registry.get_sample_value("ingrain_http_requests_in_flight") == 0


def test_files_of_processes_no_longer_running_are_forgotten(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead, alive = int(gone.stdout), os.getpid()
    for name in (f"counter_{dead}.db", f"gauge_livesum_{dead}.db", f"counter_{alive}.db", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    forget_dead_processes(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"counter_{alive}.db", "notes.txt"]
