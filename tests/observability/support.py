"""What the observability tests share: the app without a database, reading metrics, capturing logs."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from service.main import create_app
from service.observability.logging import configure_logging
from service.settings import LogFormat, Settings


def app_without_database(**settings: Any) -> FastAPI:
    """The app as served, its lifespan not run: enough for what answers without the database
    (probes, /metrics, CORS preflights, routing errors)."""
    return create_app(Settings(environment="test", demo_data=False, **settings), database_url="unused")


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingrain.test")


def sample(name: str, **labels: str) -> float:
    """A sample of this process's metrics (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class CapturedLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.json_lines() if line.get("event") == "request"]


@contextmanager
def captured_logs(log_format: LogFormat = "json") -> Iterator[CapturedLogs]:
    """Logging configured as a served process configures it, into a string; undone on exit."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    uvicorn = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    test_client = logging.getLogger("httpx")
    test_client_level = test_client.level
    stream = io.StringIO()
    configure_logging(log_format, "info", stream=stream)
    try:
        yield CapturedLogs(stream)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        test_client.setLevel(test_client_level)
        for name, (handlers, propagate) in uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
