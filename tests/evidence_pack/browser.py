"""Debian's Chromium for the browser tests: installed with apt when it is missing, once per machine.

The test suite runs as root in CI, so it installs the browser itself rather than skipping: a missing
browser must fail the run, not hide it. Both pytest-xdist workers may ask at once, so the install is
serialised by a file lock and the second worker finds the browser already there. Playwright never
downloads a browser of its own: it drives this one through `executable_path`.
"""

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_LOCK = Path(tempfile.gettempdir()) / "ingrain-chromium-install.lock"
# apt may wait for another package manager's lock; a slow mirror may take minutes to download.
INSTALL_SECONDS = 900
APT_LOCK_WAIT_SECONDS = 300

# Headless, sandboxless (root in a container), and quiet: no first-run pages, no component or
# sync updates, no QUIC probes, no background fetches. The page itself may make no request at all.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ChromiumUnavailable(RuntimeError):
    """Chromium is not installed and could not be installed."""


@dataclass(frozen=True)
class Chromium:
    path: Path
    installed_seconds: float | None  # how long this process spent installing it; None if it was there


def _apt(*arguments: str) -> None:
    command = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT_SECONDS}", *arguments]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ChromiumUnavailable(f"{' '.join(command)}: {error}") from error
    if done.returncode != 0:
        output = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        raise ChromiumUnavailable(f"{' '.join(command)} exited with {done.returncode}:\n{output}")


def ensure_chromium() -> Chromium:
    """/usr/bin/chromium, installed from Debian's packages first when it is missing."""
    if CHROMIUM.exists():
        return Chromium(CHROMIUM, None)
    started = time.monotonic()
    with FileLock(str(INSTALL_LOCK), timeout=INSTALL_SECONDS * 2):
        if not CHROMIUM.exists():  # the other worker may have installed it while we waited
            _apt("update")
            _apt("install", "-y", "--no-install-recommends", "chromium")
    if not CHROMIUM.exists():
        raise ChromiumUnavailable(f"apt-get installed chromium, but {CHROMIUM} is not there")
    return Chromium(CHROMIUM, time.monotonic() - started)
