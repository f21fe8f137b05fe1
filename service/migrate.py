"""Alembic, driven from code: upgrade at start-up (embedded) or on `ingrain migrate`."""

import asyncio
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d-%%(rev)s_%%(slug)s")
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    # Alembic's env.py runs its own event loop; keep it off ours.
    await asyncio.to_thread(upgrade, database_url, revision)


def in_models(name: str | None, type_: str, parent_names: object) -> bool:
    """What a schema comparison should weigh: everything but touchpoint's monthly partitions, which
    are made by the database (service/touchpoints/partitions.py), not declared in the models."""
    from service.touchpoints.partitions import is_partition

    return not (type_ == "table" and name is not None and is_partition(name))
