"""A Postgres of one test module's own, which that module may stop, SIGKILL and start again.

The shared test server (tests/conftest.py) is never stopped; fault tests use one of these instead.
It listens on a loopback TCP port only, so a stopped server refuses connections as a remote one
would. The binaries and the first `initdb` come from the `pgserver` wheel, as for the embedded one.
"""

import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
from pgserver import get_server
from pgserver._commands import create_command_function

pg_ctl = create_command_function("pg_ctl")
pg_basebackup = create_command_function("pg_basebackup")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivatePostgres:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data_dir = directory / "data"
        self.port = _free_port()
        self.system_user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> None:
        """`initdb` (as pgserver does it, also under root), then stop pgserver's socket-only server."""
        server = get_server(self.data_dir, cleanup_mode=None)
        self.system_user = server.system_user
        self.stop()
        self.start()

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -c fsync=on"
        pg_ctl(
            ["-w", "-t", "60", "-o", options, "-l", str(self.data_dir / "log"), "start"],
            pgdata=self.data_dir,
            user=self.system_user,
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.data_dir, user=self.system_user, timeout=60)

    def postmaster(self) -> psutil.Process | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            return psutil.Process(pid)
        except psutil.NoSuchProcess:
            return None

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once, as a crash of the machine would."""
        postmaster = self.postmaster()
        assert postmaster is not None, "the private Postgres is not running"
        processes = [postmaster, *postmaster.children(recursive=True)]
        for process in processes:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        _gone, alive = psutil.wait_procs(processes, timeout=10)
        assert not alive, f"processes outlived SIGKILL: {alive}"

    def is_running(self) -> bool:
        postmaster = self.postmaster()
        return postmaster is not None and postmaster.is_running()

    def remove(self) -> None:
        if self.is_running():
            try:
                self.stop("immediate")
            except Exception:
                self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(Path(tempfile.mkdtemp(prefix="ingrain-faults-pg-")))
    try:
        server.init()
        started = time.monotonic()
        while not server.is_running() and time.monotonic() - started < 10:
            time.sleep(0.1)
        yield server
    finally:
        server.remove()


@contextmanager
def standby_of(primary: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """A hot standby of `primary`, streaming its WAL: `pg_basebackup -R` into a directory of its
    own, then started on a loopback port of its own. Read-only, as a read replica is."""
    standby = PrivatePostgres(primary.directory / "standby")
    standby.system_user = primary.system_user
    standby.directory.mkdir()
    if standby.system_user is not None:
        shutil.chown(standby.directory, user=standby.system_user)
    try:
        pg_basebackup(
            [
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(standby.data_dir),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
            user=standby.system_user,
            timeout=120,
        )
        standby.start()
        yield standby
    finally:
        standby.remove()
