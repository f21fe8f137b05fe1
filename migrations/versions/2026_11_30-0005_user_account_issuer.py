"""user account issuer: accounts are keyed by (organisation, issuer, sub), not (organisation, sub)

A `sub` is unique only within its issuer (OpenID Connect Core §2). Keyed by the organisation and
`sub` alone, an account applied to the tokens of every trusted issuer, so a user of one identity
provider could take the roles of another's user with the same `sub`.

Accounts made before this revision recorded no issuer; they are attributed to Ingrain's own issuer
(INGRAIN_JWT_ISSUER when the migration runs), which is what `ingrain token` signs. Accounts meant
for an identity provider's subjects are to be created again with that provider's `issuer`.
Downgrading refuses while two accounts of one organisation share a `sub`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service.settings import get_settings

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("issuer", sa.Text(), nullable=True))
    op.execute(
        sa.text("UPDATE user_account SET issuer = :issuer").bindparams(issuer=get_settings().jwt_issuer)
    )
    op.alter_column("user_account", "issuer", nullable=False)
    op.drop_constraint(op.f("uq_user_account_organisation_id_sub"), "user_account", type_="unique")
    op.create_unique_constraint(
        op.f("uq_user_account_organisation_id_issuer_sub"), "user_account", ["organisation_id", "issuer", "sub"]
    )


def downgrade() -> None:
    op.execute(
        """
DO $check$
BEGIN
  IF EXISTS (SELECT 1 FROM user_account GROUP BY organisation_id, sub HAVING count(*) > 1) THEN
    RAISE EXCEPTION 'user accounts of different issuers share a sub in one organisation; '
      'remove one of each pair before downgrading below 0005';
  END IF;
END
$check$
"""
    )
    op.drop_constraint(op.f("uq_user_account_organisation_id_issuer_sub"), "user_account", type_="unique")
    op.create_unique_constraint(
        op.f("uq_user_account_organisation_id_sub"), "user_account", ["organisation_id", "sub"]
    )
    op.drop_column("user_account", "issuer")
