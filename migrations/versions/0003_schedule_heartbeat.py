"""schedule run heartbeat

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

The process solving a schedule version writes a heartbeat every few seconds; a running version
whose heartbeat stops is failed within a minute instead of blocking new runs.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('schedule_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', mes.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('schedule_version', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
