"""cases: withdrawn is its own status (it was reported as closed)

A case the submitter withdrew was stored as ``closed``. A closed case that was never
accepted can only have been withdrawn (closing needs an accepted or resolved case), so
those become ``withdrawn``; the per-member tallies are counted again from the cases,
and the partial index of the cases the end-of-support check can still flag leaves
withdrawn cases out as it leaves closed ones.

Revision ID: 5d2e8a7c1b90
Revises: 5e55107e0a01
Create Date: 2026-12-05 13:05:00.000000

"""
from alembic import op
import sqlalchemy as sa

import exchange.db  # noqa: F401  (custom column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = '5d2e8a7c1b90'
down_revision = '5e55107e0a01'
branch_labels = None
depends_on = None

OLD_WHERE = "NOT product_obsolete AND status NOT IN ('closed', 'rejected')"
NEW_WHERE = "NOT product_obsolete AND status NOT IN ('closed', 'rejected', 'withdrawn')"

RECOUNT = [
    "DELETE FROM case_tallies",
    "INSERT INTO case_tallies (member_id, direction, status, count) "
    "SELECT submitter_id, 'outbound', status, count(*) FROM cases WHERE NOT test "
    "GROUP BY submitter_id, status "
    "UNION ALL "
    "SELECT receiver_id, 'inbound', status, count(*) FROM cases WHERE NOT test "
    "GROUP BY receiver_id, status",
]


def _index(batch_op, where):
    batch_op.create_index(
        'ix_cases_product_unflagged',
        ['product_version_id'],
        unique=False,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade():
    op.execute(
        "UPDATE cases SET status = 'withdrawn' WHERE status = 'closed' AND accepted_at IS NULL"
    )
    for statement in RECOUNT:
        op.execute(statement)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_product_unflagged')
        _index(batch_op, NEW_WHERE)


def downgrade():
    op.execute("UPDATE cases SET status = 'closed' WHERE status = 'withdrawn'")
    for statement in RECOUNT:
        op.execute(statement)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_product_unflagged')
        _index(batch_op, OLD_WHERE)
