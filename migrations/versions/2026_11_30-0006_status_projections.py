"""status projections: current statuses kept by job workers, the job queue, and the status event outbox

`status_projection` holds, per innovation and set of services a reader asks for, the presented
status for the provider's own roles and the one with small counts withheld for commissioners and
inspectors, with the transaction horizon of the snapshot it was computed from (`data_xid`), so a
worker never writes an older result over a newer one.

`status_event` is the ordered outbox of stage and RAG changes. Each event records the transaction
that wrote it (`xid`); the change feed hands out only events of transactions older than every one
still running, so an event whose id was taken before another's but committed after it is never
skipped by a reader that already moved past the other.

The job queue is pgqueuer's own schema, installed by its own statements into the `jobs` schema.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sqlalchemy.util import await_only

from service.jobs.queue import JOB_SCHEMA, install_sql, uninstall_sql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UUID = postgresql.UUID(as_uuid=True)


def _script(sql: str) -> None:
    """Several statements at once (pgqueuer's install script), sent as one simple query: a prepared
    statement holds one command only."""
    driver = op.get_bind().connection.dbapi_connection.driver_connection  # type: ignore[union-attr]
    await_only(driver.execute(sql))


def upgrade() -> None:
    op.create_table(
        "status_projection",
        sa.Column("organisation_id", _UUID, nullable=False),
        sa.Column("innovation_id", _UUID, nullable=False),
        sa.Column("scope_key", sa.Text(), nullable=False),
        sa.Column("service_id", _UUID, nullable=True),
        sa.Column("service_ids", postgresql.ARRAY(_UUID), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("external_body", postgresql.JSONB(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_xid", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id", "innovation_id"],
            ["innovation.organisation_id", "innovation.id"],
            name="fk_status_projection_organisation_id_innovation_id",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("innovation_id", "scope_key", name="pk_status_projection"),
    )
    op.create_index("ix_status_projection_checked", "status_projection", ["checked_at"])
    op.create_table(
        "status_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("organisation_id", _UUID, nullable=False),
        sa.Column("innovation_id", _UUID, nullable=False),
        sa.Column("service_id", _UUID, nullable=True),
        sa.Column("indicator_key", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_event"),
    )
    op.create_index("ix_status_event_organisation", "status_event", ["organisation_id", "id"])
    _script(install_sql())


def downgrade() -> None:
    _script(uninstall_sql())
    op.execute(f"DROP SCHEMA IF EXISTS {JOB_SCHEMA} CASCADE")
    op.drop_index("ix_status_event_organisation", table_name="status_event")
    op.drop_table("status_event")
    op.drop_index("ix_status_projection_checked", table_name="status_projection")
    op.drop_table("status_projection")
