"""Print the README's configuration table from the Settings class, so the two cannot drift apart.

.venv/bin/python -m tools.settings_table
"""

from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from service.settings import PROJECT_ROOT, Settings

HEADER = "| variable | default | meaning |\n|---|---|---|"


def _default(name: str) -> str:
    field = Settings.model_fields[name]
    value: Any = field.default
    if value is PydanticUndefined and field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    if name == "jwt_secret":
        return "a development secret (refused in production)"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        return f"`{value.relative_to(PROJECT_ROOT)}` in the checkout"
    if isinstance(value, list):
        return "`[]`"
    return f"`{value}`"


def settings_table() -> str:
    rows = [
        f"| `INGRAIN_{name.upper()}` | {_default(name)} | {field.description} |"
        for name, field in Settings.model_fields.items()
    ]
    return "\n".join([HEADER, *rows])


if __name__ == "__main__":
    print(settings_table())
