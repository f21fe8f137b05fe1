"""Inserts that cannot race: a row named by a reference is inserted once, whoever asks first."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")
T = TypeVar("T")


async def insert_unless_taken(session: AsyncSession, row: M) -> M | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the row; None when a unique reference was taken.

    A concurrent insert of the same reference waits for the first to commit and then finds the
    conflict, so two clients syncing the same reference end with one row.
    """
    model = type(row)
    values = {column.name: getattr(row, column.name) for column in model.__table__.columns}  # type: ignore[attr-defined]
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(model)
    result = await session.scalars(stmt, execution_options={"populate_existing": True})
    return result.one_or_none()


def assign(row: object, values: dict[str, Any]) -> bool:
    """Set the values that differ; True when anything changed (so unchanged writes stay no-ops)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


@dataclass(frozen=True, slots=True)
class Synced(Generic[T]):
    """The outcome of a sync by reference: the row as stored and whether this call created it."""

    row: T
    created: bool
