"""Monthly rollups of touchpoints, kept current by triggers (migration 0002), read by every status.

One row per (organisation, innovation, service, local month) holds the counts of touchpoints that
reference the innovation; one per (organisation, service, month) the service-wide counts an
indicator divides by; one per (organisation, innovation, service, month, recorder) who recorded
them. The counted columns are the fields of `service.status.evaluation.inputs.MonthCounts`, so
the two can never disagree about what is counted. One per (organisation, innovation, service, month)
summarises that month's audits as a run (`service.status.evaluation.inputs.AuditRun`): adjacent
months' runs join exactly, so a window's audit stability never reads the audits themselves
(migration 0004 keeps it current).
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from service.database import metadata
from service.status.evaluation.inputs import INNOVATION_FIELDS, SERVICE_FIELDS


def _count(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default=text("0"))


def _updated_at() -> Column[datetime]:
    # Read by the portfolio's change feed to answer "nothing changed" cheaply.
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()"))


def _innovation_key() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["organisation_id", "innovation_id"],
        ["innovation.organisation_id", "innovation.id"],
        ondelete="CASCADE",
    )


def _service_key() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["organisation_id", "service_id"], ["service.organisation_id", "service.id"], ondelete="CASCADE"
    )


status_month_rollup = Table(
    "status_month_rollup",
    metadata,
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("innovation_id", UUID(as_uuid=True), nullable=False),
    Column("service_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    *[_count(name) for name in INNOVATION_FIELDS],
    _updated_at(),
    PrimaryKeyConstraint("organisation_id", "innovation_id", "service_id", "month"),
    _innovation_key(),
    _service_key(),
    # "Has anything changed?" (the portfolio change feed) is a max() over this.
    Index("ix_status_month_rollup_updated", "organisation_id", "updated_at"),
)

status_service_month = Table(
    "status_service_month",
    metadata,
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("service_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    *[_count(name) for name in SERVICE_FIELDS],
    _updated_at(),
    PrimaryKeyConstraint("organisation_id", "service_id", "month"),
    _service_key(),
    # "Has anything changed?" (the portfolio change feed) is a max() over this.
    Index("ix_status_service_month_updated", "organisation_id", "updated_at"),
)

status_staff_month = Table(
    "status_staff_month",
    metadata,
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("innovation_id", UUID(as_uuid=True), nullable=False),
    Column("service_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    Column("staff_member_id", UUID(as_uuid=True), nullable=False),
    _count("touchpoints"),
    _updated_at(),
    PrimaryKeyConstraint("organisation_id", "innovation_id", "service_id", "month", "staff_member_id"),
    _innovation_key(),
    _service_key(),
    # "Has anything changed?" (the portfolio change feed) is a max() over this.
    Index("ix_status_staff_month_updated", "organisation_id", "updated_at"),
)

status_audit_month = Table(
    "status_audit_month",
    metadata,
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("innovation_id", UUID(as_uuid=True), nullable=False),
    Column("service_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    # The month's audits of touchpoints referencing the innovation, in the order they happened:
    # how many, their total score, the first score, the last (up to) three and the largest drop
    # between consecutive ones. Scores are in hundredths of a percentage point (a score_percent
    # has two decimals), so they are exact integers.
    Column("audits", Integer, nullable=False),
    Column("total_hundredths", BigInteger, nullable=False),
    Column("first_hundredths", Integer, nullable=False),
    Column("last_hundredths", ARRAY(Integer), nullable=False),
    Column("max_drop_hundredths", Integer, nullable=False),
    _updated_at(),
    PrimaryKeyConstraint("organisation_id", "innovation_id", "service_id", "month"),
    _innovation_key(),
    _service_key(),
    # "Has anything changed?" (the portfolio change feed) is a max() over this.
    Index("ix_status_audit_month_updated", "organisation_id", "updated_at"),
)
