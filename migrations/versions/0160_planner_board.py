"""planner board

Revision ID: 0160
Revises: 0170
Create Date: 2026-12-02

A run can be asked to stop (from any process); a draft remembers when it was last changed by
hand, which plan it came from, and what a what-if draft assumes.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0160'
down_revision = '0170'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('schedule_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stop_requested_at', mes.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('changed_at', mes.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('based_on_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('what_if_json', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_schedule_version_based_on_id_schedule_version'), 'schedule_version',
                                    ['based_on_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('schedule_version', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_schedule_version_based_on_id_schedule_version'), type_='foreignkey')
        batch_op.drop_column('what_if_json')
        batch_op.drop_column('based_on_id')
        batch_op.drop_column('changed_at')
        batch_op.drop_column('stop_requested_at')
