"""Current statuses kept by the job workers, and the outbox of their changes (migration 0006).

A projection is one innovation's status for one set of services (`scope_key`): every service alone,
the provider roll-up over all its services, and any other set a reader asked for (a commissioner's
covered services, a manager's own). It holds both presented bodies, the provider's own and the one
for commissioners and inspectors, the default monthly history in both views (migration 0008), and
`data_xid`: `pg_snapshot_xmax` of the snapshot it was computed in, the point in the data it reflects.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from service.database import metadata

status_projection = Table(
    "status_projection",
    metadata,
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("innovation_id", UUID(as_uuid=True), nullable=False),
    Column("scope_key", Text, nullable=False),
    Column("service_id", UUID(as_uuid=True), nullable=True),
    Column("service_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
    Column("stage", Text, nullable=False),
    Column("body", JSONB, nullable=False),
    Column("external_body", JSONB, nullable=False),
    # The default monthly series (12 points, the last ending at `computed_at`), in both views;
    # null on rows stored before it was kept (migration 0008) until their next recompute.
    Column("history", JSONB, nullable=True),
    Column("external_history", JSONB, nullable=True),
    # The body without the moment it was computed at: a recompute that finds the same content keeps
    # the stored body (and so its ETag) and only moves `checked_at` and `data_xid`.
    Column("content_hash", Text, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("data_xid", BigInteger, nullable=False),
    PrimaryKeyConstraint("innovation_id", "scope_key"),
    ForeignKeyConstraint(
        ["organisation_id", "innovation_id"],
        ["innovation.organisation_id", "innovation.id"],
        ondelete="CASCADE",
    ),
    Index("ix_status_projection_checked", "checked_at"),
)

status_event = Table(
    "status_event",
    metadata,
    Column("id", BigInteger, Identity(always=False), nullable=False),
    # The writing transaction, for diagnosis: the feed's order comes from ids given out in commit
    # order (`repository.insert_events`).
    Column("xid", BigInteger, nullable=False, server_default=text("(pg_current_xact_id()::text)::bigint")),
    Column("type", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("organisation_id", UUID(as_uuid=True), nullable=False),
    Column("innovation_id", UUID(as_uuid=True), nullable=False),
    Column("service_id", UUID(as_uuid=True), nullable=True),
    Column("indicator_key", Text, nullable=True),
    Column("data", JSONB, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("ix_status_event_organisation", "organisation_id", "id"),
)
