"""sheet archive: the daily output sheets generated after each day's last shift

Revision ID: 0170
Revises: 0150
Create Date: 2026-12-02

One PDF per plant day and language; the row doubles as the claim that keeps several processes
from generating the same sheet twice.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0170'
down_revision = '0150'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archived_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=False),
    sa.Column('claimed_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('generated_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archived_sheet')),
    sa.UniqueConstraint('day', 'locale', name=op.f('uq_archived_sheet_day_locale'))
    )
    with op.batch_alter_table('archived_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archived_sheet_day'), ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('archived_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archived_sheet_day'))
    op.drop_table('archived_sheet')
