"""users: session generation, so sign-out, a new password and deactivation end sessions

Revision ID: 5e55107e0a01
Revises: 5f0c2a9e7d41
Create Date: 2026-12-05 12:50:00.000000

"""

from alembic import op
import sqlalchemy as sa

import exchange.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = "5e55107e0a01"
down_revision = "5f0c2a9e7d41"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
