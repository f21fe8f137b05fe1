"""Integration clients, the machine identities of care record systems (OAuth 2.0 client credentials),
and the failed attempts to authenticate as one."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, timestamp_column, utcnow


class IntegrationClient(SQLModel, table=True):
    """A care record system allowed to write as `source_system` into one provider."""

    __tablename__ = "integration_client"
    __table_args__ = (
        # The token endpoint finds a client by its public id alone, before it knows the tenant.
        UniqueConstraint("client_id"),
        Index("ix_integration_client_organisation_created", "organisation_id", "created_at", "id"),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    client_id: str = Field(sa_column=Column(Text, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    source_system: str = Field(sa_column=Column(Text, nullable=False))
    # argon2id hash of the current secret; the secret itself is shown once and never stored.
    secret_hash: str = Field(sa_column=Column(Text, nullable=False))
    secret_rotated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_used_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )


class ClientAuthFailure(SQLModel, table=True):
    """Recent failed POST /v1/auth/token attempts of one client id or one address.

    Kept in Postgres so that every server process, on every machine, counts against one limit
    (service.auth.rate_limit). A row holds at most the limit's number of newest failure times; once
    `expires_at` has passed none of them is inside the window any more and the row may be pruned.
    """

    __tablename__ = "client_auth_failure"
    __table_args__ = (
        CheckConstraint("scope IN ('client', 'address')", name="scope"),
        Index("ix_client_auth_failure_expires_at", "expires_at"),
    )

    scope: str = Field(sa_column=Column(Text, primary_key=True))
    key: str = Field(sa_column=Column(Text, primary_key=True))
    failed_at: list[datetime] = Field(sa_column=Column(ARRAY(DateTime(timezone=True)), nullable=False))
    expires_at: datetime = Field(sa_column=timestamp_column(default_now=False))
