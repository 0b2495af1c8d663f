"""plant setup: master data that can be retired and edited concurrently, plant settings

Revision ID: 0120
Revises: 0003
Create Date: 2026-12-02

Work centers, calendars and product families get an ``active`` flag (retired records stay for the
history that refers to them); they and machines get a version column for optimistic locking and
who changed them last. Plant settings chosen on the first-run page live in ``plant_setting``.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0120'
down_revision = '0003'
branch_labels = None
depends_on = None

VERSIONED = ('work_calendar', 'work_center', 'machine', 'product_family')
RETIRABLE = ('work_calendar', 'work_center', 'product_family')


def upgrade() -> None:
    op.create_table(
        'plant_setting',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_plant_setting')),
    )
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table in RETIRABLE:
                batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
            batch_op.add_column(sa.Column('updated_at', mes.core.db.UTCDateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_updated_by_id_user_account'), 'user_account',
                                        ['updated_by_id'], ['id'])


def downgrade() -> None:
    for table in reversed(VERSIONED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_updated_by_id_user_account'), type_='foreignkey')
            batch_op.drop_column('updated_by_id')
            batch_op.drop_column('updated_at')
            batch_op.drop_column('version')
            if table in RETIRABLE:
                batch_op.drop_column('active')
    op.drop_table('plant_setting')
