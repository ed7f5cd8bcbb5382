"""epoch: the row identity processes watch to drop their caches

Revision ID: ed028df905ba
Created: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = 'ed028df905ba'
down_revision = '72c26ef315c9'


def upgrade() -> None:
    epoch = op.create_table(
        'epoch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(epoch, [{'id': 1, 'value': 0}])
