"""User accounts: the roles and services an organisation gives a person's token subject."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import Field, SQLModel

from service.model_helpers import new_id, timestamp_column, utcnow, uuid_array_column
from service.vocabulary import Role

_ROLE_NAMES = ", ".join(f"'{role.value}'" for role in Role)


class UserAccount(SQLModel, table=True):
    """When a token's (`org`, `iss`, `sub`) has an account, the account's roles and services count.

    A `sub` is unique only within its issuer (OpenID Connect Core §2): two identity providers may
    both have an "alice", and one's account must never apply to the other's tokens.
    """

    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("organisation_id", "issuer", "sub"),
        CheckConstraint(f"roles <@ ARRAY[{_ROLE_NAMES}]::text[]", name="roles_known"),
        CheckConstraint("cardinality(roles) >= 1", name="roles_present"),
    )

    organisation_id: uuid.UUID = Field(
        sa_column=Column(UUID(as_uuid=True), ForeignKey("organisation.id"), primary_key=True)
    )
    id: uuid.UUID = Field(default_factory=new_id, sa_column=Column(UUID(as_uuid=True), primary_key=True))
    issuer: str = Field(sa_column=Column(Text, nullable=False))
    sub: str = Field(sa_column=Column(Text, nullable=False))
    roles: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    # Services the user is limited to; NULL means every service of the organisation.
    service_ids: list[uuid.UUID] | None = Field(default=None, sa_column=uuid_array_column())
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    disabled_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True, default_now=False)
    )
