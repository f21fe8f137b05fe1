"""The README says what the code does: its settings table and its curl examples follow the code."""

import re
from pathlib import Path

from service.graphql.router import GRAPHQL_PATH
from service.main import create_app
from service.settings import Settings
from tools.settings_table import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"
TABLE = re.compile(r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", re.S)
CALL = re.compile(r"curl [^\n]*?\"\$API(?P<path>/[^\"?]*)")


def test_the_configuration_table_is_generated_from_the_settings() -> None:
    match = TABLE.search(README.read_text())
    assert match, "README.md lost its settings-table markers"
    assert match.group(1) == settings_table(), (
        "README.md's configuration table differs from service/settings.py; "
        "regenerate it with `.venv/bin/python -m tools.settings_table`"
    )
    for name in Settings.model_fields:
        assert f"`INGRAIN_{name.upper()}`" in match.group(1)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


def test_every_curl_example_calls_a_route_that_exists() -> None:
    app = create_app(Settings(environment="test", demo_data=False))
    # GraphQL is outside the OpenAPI document; everything else is in it.
    routes = [_pattern(path) for path in [*app.openapi()["paths"], GRAPHQL_PATH]]
    called = [m.group("path") for m in CALL.finditer(README.read_text())]
    assert len(called) >= 15
    for path in called:
        concrete = re.sub(r"\$[A-Z_]+", "00000000-0000-0000-0000-000000000000", path)
        assert any(p.match(concrete) for p in routes), f"README calls {path}, which no route serves"


def test_every_link_into_the_repository_exists() -> None:
    links = re.findall(r"\]\((?!https?://|#)([^)#]+)", README.read_text())
    assert links
    for link in links:
        assert (README.parent / link).exists(), f"README links to {link}, which is not in the repository"
