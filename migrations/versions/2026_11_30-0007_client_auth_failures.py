"""client auth failures: failed token requests are counted in Postgres, shared by every server process

Counted in each process's memory, the per-client and per-address limits of POST /v1/auth/token
multiplied with the number of server processes and reset on every restart. Nothing is carried over:
counts kept in memory are gone when the new code starts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_auth_failure",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failed_at", postgresql.ARRAY(sa.DateTime(timezone=True)), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scope IN ('client', 'address')", name=op.f("ck_client_auth_failure_scope")),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_client_auth_failure")),
    )
    op.create_index(
        op.f("ix_client_auth_failure_expires_at"), "client_auth_failure", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_client_auth_failure_expires_at"), table_name="client_auth_failure")
    op.drop_table("client_auth_failure")
