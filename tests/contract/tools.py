"""The contract's Node tools (Redocly, Spectral, openapi-typescript), pinned in tools/contract/ and
installed there with `npm ci` once, when missing: the two xdist workers share one install."""

import subprocess
from pathlib import Path

from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
CONTRACT_TOOLS = ROOT / "tools" / "contract"
BIN = CONTRACT_TOOLS / "node_modules" / ".bin"
INSTALLED = CONTRACT_TOOLS / "node_modules" / ".installed"  # what `make contract-lint` touches too
TOOL_SECONDS = 180


def run_tool(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TOOL_SECONDS, check=False, env=env
    )


def install_contract_tools() -> None:
    with FileLock(str(CONTRACT_TOOLS / ".npm-ci.lock"), timeout=TOOL_SECONDS * 2):
        if (
            INSTALLED.exists()
            and INSTALLED.stat().st_mtime >= (CONTRACT_TOOLS / "package-lock.json").stat().st_mtime
        ):
            return
        done = run_tool(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CONTRACT_TOOLS,
        )
        assert done.returncode == 0, f"npm ci:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        INSTALLED.touch()
