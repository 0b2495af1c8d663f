"""quality: inspection plans, results, nonconformances

Revision ID: 0150
Revises: 0140
Create Date: 2026-12-02

Inspection plans live beside the operations (routing and work order copies); results are
append-only like production reports; nonconformances carry a version for optimistic locking.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0150'
down_revision = '0140'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_characteristic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('measured', 'attribute', name='characteristickind', native_enum=False, length=16), nullable=False),
    sa.Column('nominal', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('lower_limit', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('upper_limit', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('gauge', sa.String(length=64), nullable=True),
    sa.Column('defects', sa.Text(), nullable=True),
    sa.Column('frequency', sa.Enum('first', 'every_n', 'last', 'lot', name='frequency', native_enum=False, length=16), nullable=False),
    sa.Column('every_n', sa.Integer(), nullable=True),
    sa.CheckConstraint('every_n IS NULL OR every_n > 0', name=op.f('ck_routing_characteristic_every_n')),
    sa.CheckConstraint('lower_limit IS NULL OR upper_limit IS NULL OR lower_limit <= upper_limit', name=op.f('ck_routing_characteristic_limits')),
    sa.ForeignKeyConstraint(['operation_id'], ['routing_operation.id'], name=op.f('fk_routing_characteristic_operation_id_routing_operation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_characteristic')),
    sa.UniqueConstraint('operation_id', 'seq', name=op.f('uq_routing_characteristic_operation_id_seq'))
    )
    with op.batch_alter_table('routing_characteristic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_characteristic_operation_id'), ['operation_id'], unique=False)

    op.create_table('operation_characteristic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('source_characteristic_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('measured', 'attribute', name='characteristickind', native_enum=False, length=16), nullable=False),
    sa.Column('nominal', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('lower_limit', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('upper_limit', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=True),
    sa.Column('gauge', sa.String(length=64), nullable=True),
    sa.Column('defects', sa.Text(), nullable=True),
    sa.Column('frequency', sa.Enum('first', 'every_n', 'last', 'lot', name='frequency', native_enum=False, length=16), nullable=False),
    sa.Column('every_n', sa.Integer(), nullable=True),
    sa.CheckConstraint('every_n IS NULL OR every_n > 0', name=op.f('ck_operation_characteristic_every_n')),
    sa.CheckConstraint('lower_limit IS NULL OR upper_limit IS NULL OR lower_limit <= upper_limit', name=op.f('ck_operation_characteristic_limits')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_operation_characteristic_operation_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_characteristic_id'], ['routing_characteristic.id'], name=op.f('fk_operation_characteristic_source_characteristic_id_routing_characteristic'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_characteristic')),
    sa.UniqueConstraint('operation_id', 'seq', name=op.f('uq_operation_characteristic_operation_id_seq'))
    )
    with op.batch_alter_table('operation_characteristic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_characteristic_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_characteristic_source_characteristic_id'), ['source_characteristic_id'], unique=False)

    op.create_table('inspection_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('characteristic_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Enum('first', 'every_n', 'last', 'lot', name='frequency', native_enum=False, length=16), nullable=False),
    sa.Column('sample_no', sa.Integer(), nullable=False),
    sa.Column('pieces', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('defect', sa.String(length=120), nullable=True),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('sample_no > 0', name=op.f('ck_inspection_result_sample_no')),
    sa.ForeignKeyConstraint(['characteristic_id'], ['operation_characteristic.id'], name=op.f('fk_inspection_result_characteristic_id_operation_characteristic')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_inspection_result_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_inspection_result_operation_id_operation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_inspection_result_user_id_user_account')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_inspection_result_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_result'))
    )
    with op.batch_alter_table('inspection_result', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_result_char_occasion', ['characteristic_id', 'frequency', 'sample_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_result_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_result_recorded_at'), ['recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_result_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('nonconformance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('inspection', 'scrap', 'manual', name='ncrsource', native_enum=False, length=16), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('inspection_result_id', sa.Integer(), nullable=True),
    sa.Column('production_report_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('defect', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_type', sa.String(length=32), nullable=True),
    sa.Column('status', sa.Enum('open', 'closed', name='ncrstatus', native_enum=False, length=16), nullable=False),
    sa.Column('disposition', sa.Enum('scrap', 'rework', 'use_as_is', 'return_to_supplier', name='disposition', native_enum=False, length=24), nullable=True),
    sa.Column('disposition_reason', sa.Text(), nullable=True),
    sa.Column('rework_operation_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disposed_by_id', sa.Integer(), nullable=True),
    sa.Column('disposed_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("disposition <> 'use_as_is' OR disposition_reason IS NOT NULL", name=op.f('ck_nonconformance_use_as_is_reason')),
    sa.CheckConstraint("status <> 'closed' OR disposition IS NOT NULL", name=op.f('ck_nonconformance_disposed')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_nonconformance_quantity')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_nonconformance_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['disposed_by_id'], ['user_account.id'], name=op.f('fk_nonconformance_disposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['inspection_result_id'], ['inspection_result.id'], name=op.f('fk_nonconformance_inspection_result_id_inspection_result')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_nonconformance_operation_id_operation')),
    sa.ForeignKeyConstraint(['production_report_id'], ['production_report.id'], name=op.f('fk_nonconformance_production_report_id_production_report')),
    sa.ForeignKeyConstraint(['rework_operation_id'], ['operation.id'], name=op.f('fk_nonconformance_rework_operation_id_operation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_nonconformance_updated_by_id_user_account')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_nonconformance_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nonconformance'))
    )
    with op.batch_alter_table('nonconformance', schema=None) as batch_op:
        batch_op.create_index('ix_nonconformance_status', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nonconformance_work_order_id'), ['work_order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nonconformance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nonconformance_work_order_id'))
        batch_op.drop_index('ix_nonconformance_status')

    op.drop_table('nonconformance')
    with op.batch_alter_table('inspection_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_result_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_result_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_inspection_result_operation_id'))
        batch_op.drop_index('ix_inspection_result_char_occasion')

    op.drop_table('inspection_result')
    with op.batch_alter_table('operation_characteristic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_characteristic_source_characteristic_id'))
        batch_op.drop_index(batch_op.f('ix_operation_characteristic_operation_id'))

    op.drop_table('operation_characteristic')
    with op.batch_alter_table('routing_characteristic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_characteristic_operation_id'))

    op.drop_table('routing_characteristic')
