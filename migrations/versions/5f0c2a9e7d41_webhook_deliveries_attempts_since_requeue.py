"""webhook deliveries: attempts since the last manual re-queue (the retry schedule's
position), so that ``attempts`` keeps counting across a retry or recover

Revision ID: 5f0c2a9e7d41
Revises: 00637340d1de
Create Date: 2026-12-05 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import exchange.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '5f0c2a9e7d41'
down_revision = '00637340d1de'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts_since_requeue', sa.Integer(), nullable=False, server_default=sa.text('0')))
    # Until now a re-queue reset `attempts` itself, so it is where each schedule stands.
    op.execute('UPDATE webhook_deliveries SET attempts_since_requeue = attempts')


def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('attempts_since_requeue')
