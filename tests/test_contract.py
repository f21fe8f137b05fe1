"""The committed contract files are what the code serves: a drift fails here."""

from pathlib import Path

from service.contract import graphql_sdl, openapi_text

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"


def test_openapi_document_matches_the_app() -> None:
    committed = (OPENAPI_DIR / "openapi.json").read_text()
    stale = "openapi/openapi.json is stale: run `make openapi` and review the diff"
    assert committed == openapi_text(), stale


def test_graphql_sdl_matches_the_schema() -> None:
    sdl = graphql_sdl()
    path = OPENAPI_DIR / "schema.graphql"
    if sdl is None:
        assert not path.exists(), "schema.graphql is committed but the app has no GraphQL schema"
        return
    assert path.read_text() == sdl, "openapi/schema.graphql is stale: run `make openapi` and review the diff"
