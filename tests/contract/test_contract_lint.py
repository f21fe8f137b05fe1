"""The committed OpenAPI document passes the contract linters: Redocly's recommended ruleset with 0
errors, and Spectral's `spectral:oas` with 0 warnings (waivers, each with its reason, in
.spectral.yaml). `make contract-lint` runs the same two commands."""

import os

from tests.contract.tools import BIN, DOCUMENT, ROOT, install_contract_tools, run_tool


def test_redocly_recommended_reports_no_error() -> None:
    install_contract_tools()
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    done = run_tool(
        [str(BIN / "redocly"), "lint", str(DOCUMENT), "--extends=recommended", "--format=summary"],
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def test_spectral_oas_reports_no_warning() -> None:
    install_contract_tools()
    done = run_tool(
        [str(BIN / "spectral"), "lint", str(DOCUMENT), "--ruleset", ".spectral.yaml", "--fail-severity=warn"],
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
