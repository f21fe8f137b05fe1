"""Rebuild the initial migration from the models against a throwaway embedded Postgres.

Used while the schema has not shipped; once it has, add new revisions with `alembic revision`.
"""

import shutil
import sys
import tempfile
from pathlib import Path

from alembic import command

from service import embedded_postgres
from service.database import to_asyncpg_url
from service.migrate import MIGRATIONS_DIR, alembic_config


def main() -> None:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob("*_initial_schema.py"):
        old.unlink()
    # Hand-written revisions after 0001 (functions, triggers) revise it; set them aside while
    # 0001 is rebuilt so Alembic sees a single empty history, then put them back.
    later = [p for p in versions.glob("*.py") if not p.name.endswith("_initial_schema.py")]
    aside = Path(tempfile.mkdtemp(prefix="ingrain-later-revisions-"))
    for path in later:
        shutil.move(path, aside / path.name)
    data_dir = Path(tempfile.mkdtemp(prefix="ingrain-migration-"))
    try:
        url = to_asyncpg_url(embedded_postgres.start(data_dir, cleanup_mode="delete"))
        cfg = alembic_config(url)
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        for path in later:
            shutil.move(aside / path.name, path)
        shutil.rmtree(aside, ignore_errors=True)
    for new in versions.glob("*_initial_schema.py"):
        print(f"wrote {new}", file=sys.stderr)


if __name__ == "__main__":
    main()
