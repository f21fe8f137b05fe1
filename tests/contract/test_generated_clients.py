"""Clients generated from the committed openapi/openapi.json work: a Python client made by
openapi-python-client posts a batch of touchpoints and reads an innovation's status from
`ingrain serve` on a loopback port, and openapi-typescript makes TypeScript types of the document.

Both are generated once per test session into a temporary folder; the TypeScript generator is the
one pinned in tools/contract/ (installed with `npm ci` when missing: tests/contract/tools.py).
"""

import importlib
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bench.common import running_server, seed_provider
from service.vocabulary import Role
from tests.contract.tools import CONTRACT_TOOLS, DOCUMENT, install_contract_tools, run_tool
from tests.tokens import TokenFactory

OPENAPI_TYPESCRIPT = CONTRACT_TOOLS / "node_modules" / ".bin" / "openapi-typescript"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "ingrain_client"
GENERATION_SECONDS = 120


@dataclass(frozen=True)
class Generated:
    python_client: Path  # the folder holding the ingrain_client package
    typescript: Path  # the .d.ts file
    seconds: float


def _run(command: list[str], cwd: Path) -> None:
    done = run_tool(command, cwd=cwd)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("generated-clients")
    started = time.monotonic()
    config = out / "openapi-python-client.yaml"
    config.write_text("post_hooks: []\n")  # the generated code is imported, not formatted
    arguments = ["--path", str(DOCUMENT), "--config", str(config), "--meta", "none"]
    _run([str(GENERATOR), "generate", *arguments, "--output-path", str(out / PACKAGE)], cwd=out)
    install_contract_tools()
    typescript = out / "ingrain.d.ts"
    _run([str(OPENAPI_TYPESCRIPT), str(DOCUMENT), "--output", str(typescript)], cwd=out)
    return Generated(out, typescript, time.monotonic() - started)


def _client_module(generated: Generated, name: str) -> ModuleType:
    if str(generated.python_client) not in sys.path:
        sys.path.insert(0, str(generated.python_client))
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_typescript_types_describe_the_operations_and_their_schemas(generated: Generated) -> None:
    types = generated.typescript.read_text()
    assert '"/v1/touchpoints/batch": {' in types
    assert '"/v1/innovations/{innovation_id}/status": {' in types
    assert "EmbeddingStatus: {" in types
    assert "TouchpointBatchResults: {" in types
    assert generated.seconds < 60, f"generating both clients took {generated.seconds:.1f} s"


async def test_the_generated_python_client_posts_a_batch_and_reads_a_status(
    generated: Generated, database_url: str, tokens: TokenFactory
) -> None:
    client_module = _client_module(generated, "client")
    batch_api = _client_module(generated, "api.touchpoints.create_touchpoint_batch")
    status_api = _client_module(generated, "api.status.get_innovation_status")
    models = _client_module(generated, "models")

    provider = await seed_provider(database_url, services=1, staff=2, people=1, innovations=1)
    [service_id] = provider.service_ids
    [innovation_id] = provider.innovation_ids
    token = tokens.token(Role.quality_lead, provider.organisation_id)
    occurred_at = datetime.now(UTC) - timedelta(days=2)
    note: dict[str, Any] = {
        "kind": "daily_note",
        "service_id": str(service_id),
        "occurred_at": occurred_at.isoformat(),
        "recorded_by_id": str(provider.staff_ids[0]),
        "person_ref_id": str(provider.person_ids[0]),
        "innovation_ids": [str(innovation_id)],
        "source_system": "generated-client",
        "external_id": "note-1",
        "facts": {"activity": "Garden walk", "engagement_quality": 4},
    }
    rejected = {
        **note,
        "external_id": "note-2",
        "facts": {"activity": "Garden walk", "engagement_quality": 9},
    }
    body = models.CreateTouchpointBatchBody.from_dict({"items": [note, rejected]})

    async with (
        running_server(database_url) as base_url,
        client_module.AuthenticatedClient(base_url=base_url, token=token, timeout=30) as client,
    ):
        posted = await batch_api.asyncio_detailed(client=client, body=body)
        assert posted.status_code == 200, posted.content
        results = posted.parsed
        assert isinstance(results, models.TouchpointBatchResults)
        assert [(r.index, r.status.value) for r in results.results] == [(0, "created"), (1, "rejected")]

        read = await status_api.asyncio_detailed(innovation_id, client=client)
        assert read.status_code == 200, read.content
        status = read.parsed
        assert isinstance(status, models.EmbeddingStatus)
        assert status.innovation_id == innovation_id
        assert {indicator.key.value for indicator in status.indicators} >= {"person_independence"}
