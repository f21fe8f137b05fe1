"""An embedded Postgres from the `pgserver` wheel, used when no INGRAIN_DATABASE_URL is set."""

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_servers: dict[Path, Any] = {}


def start(data_dir: Path, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or reuse) the Postgres kept in `data_dir`; return a libpq URI for it.

    Data persists between restarts; `cleanup_mode="delete"` removes it at exit (tests).
    """
    import pgserver

    data_dir = data_dir.resolve()
    if data_dir in _servers:
        return str(_servers[data_dir].get_uri())
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data_dir, cleanup_mode=cleanup_mode)
    _servers[data_dir] = server
    uri = str(server.get_uri())
    log.info("embedded Postgres running in %s", data_dir)
    return uri
