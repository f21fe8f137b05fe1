"""The README says what the code does: its settings table follows the code."""

import re
from pathlib import Path

from service.settings import Settings
from tools.settings_table import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"
TABLE = re.compile(r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", re.S)


def test_the_configuration_table_is_generated_from_the_settings() -> None:
    match = TABLE.search(README.read_text())
    assert match, "README.md lost its settings-table markers"
    assert match.group(1) == settings_table(), (
        "README.md's configuration table differs from service/settings.py; "
        "regenerate it with `.venv/bin/python -m tools.settings_table`"
    )
    for name in Settings.model_fields:
        assert f"`INGRAIN_{name.upper()}`" in match.group(1)

