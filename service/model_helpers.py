"""Column helpers shared by the table models."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKeyConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from service import clock


def utcnow() -> datetime:
    return clock.now()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def timestamp_column(*, nullable: bool = False, default_now: bool = True, index: bool = False) -> Any:
    return Column(
        DateTime(timezone=True),
        nullable=nullable,
        server_default=text("now()") if default_now else None,
        index=index,
    )


def jsonb_column(*, nullable: bool = False, default: str | None = None) -> Any:
    return Column(JSONB, nullable=nullable, server_default=text(f"'{default}'::jsonb") if default else None)


def uuid_array_column(*, nullable: bool = True) -> Any:
    return Column(ARRAY(UUID(as_uuid=True)), nullable=nullable)


def tenant_fk(columns: list[str], table: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A foreign key between tenant tables: always through (organisation_id, id)."""
    return ForeignKeyConstraint(
        ["organisation_id", *columns],
        [f"{table}.organisation_id", f"{table}.id"],
        ondelete=ondelete,
    )
