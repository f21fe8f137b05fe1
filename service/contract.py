"""The API contract as files: the OpenAPI document and the GraphQL SDL."""

import json
from pathlib import Path
from typing import Any

from service.settings import Settings


def openapi_document() -> dict[str, Any]:
    from service.main import create_app

    return create_app(Settings()).openapi()


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def graphql_sdl() -> str | None:
    try:
        from service.graphql.schema import schema
    except ImportError:
        return None
    return schema.as_str() + "\n"


def write_contract(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "openapi.json"]
    written[0].write_text(openapi_text())
    sdl = graphql_sdl()
    if sdl is not None:
        (out / "schema.graphql").write_text(sdl)
        written.append(out / "schema.graphql")
    return written
