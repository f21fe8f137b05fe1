"""projected history: each projection keeps its monthly series beside its status

The default history of a status (12 months, the last ending now) is computed by the same recompute
from the same load, in both presented views. Rows stored before have none (null) until their next
recompute; a history read of such a row is computed on read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("status_projection", sa.Column("history", postgresql.JSONB(), nullable=True))
    op.add_column("status_projection", sa.Column("external_history", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("status_projection", "external_history")
    op.drop_column("status_projection", "history")
