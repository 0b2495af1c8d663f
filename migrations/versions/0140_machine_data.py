"""machine data: state timeline, counter readings, alarms, dead letters, live summary, topic
mappings, andon display links; downtime records say whether a machine reported them

Revision ID: 0140
Revises: 0130
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0140'
down_revision = '0130'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('andon_display_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('work_center_id', sa.Integer(), nullable=True),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_andon_display_link_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['work_center_id'], ['work_center.id'], name=op.f('fk_andon_display_link_work_center_id_work_center'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_andon_display_link')),
    sa.UniqueConstraint('digest', name=op.f('uq_andon_display_link_digest'))
    )
    op.create_table('machine_alarm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('ts', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('received_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_alarm_machine_id_machine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_alarm')),
    sa.UniqueConstraint('machine_id', 'ts', 'code', 'active', name=op.f('uq_machine_alarm_machine_id_ts_code_active'))
    )
    with op.batch_alter_table('machine_alarm', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_alarm_machine_id'), ['machine_id'], unique=False)

    op.create_table('machine_dead_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('topic', sa.String(length=400), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=True),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_dead_letter_machine_id_machine'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_dead_letter'))
    )
    with op.batch_alter_table('machine_dead_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_dead_letter_received_at'), ['received_at'], unique=False)

    op.create_table('machine_state_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('ts', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('running', 'idle', 'setup', 'down', 'off', name='machinestate', native_enum=False, length=8), nullable=False),
    sa.Column('reason', sa.String(length=120), nullable=True),
    sa.Column('received_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_state_event_machine_id_machine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_state_event')),
    sa.UniqueConstraint('machine_id', 'ts', name=op.f('uq_machine_state_event_machine_id_ts'))
    )
    op.create_table('machine_topic_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('state_topic', sa.String(length=200), nullable=True),
    sa.Column('count_topic', sa.String(length=200), nullable=True),
    sa.Column('alarm_topic', sa.String(length=200), nullable=True),
    sa.Column('ts_path', sa.String(length=120), nullable=False),
    sa.Column('state_path', sa.String(length=120), nullable=False),
    sa.Column('reason_path', sa.String(length=120), nullable=False),
    sa.Column('good_path', sa.String(length=120), nullable=False),
    sa.Column('scrap_path', sa.String(length=120), nullable=False),
    sa.Column('code_path', sa.String(length=120), nullable=False),
    sa.Column('text_path', sa.String(length=120), nullable=False),
    sa.Column('active_path', sa.String(length=120), nullable=False),
    sa.Column('state_map', sa.Text(), nullable=True),
    sa.Column('counter_max', sa.BigInteger(), nullable=True),
    sa.Column('max_rate_per_minute', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_topic_mapping_machine_id_machine'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_machine_topic_mapping_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_topic_mapping')),
    sa.UniqueConstraint('machine_id', name=op.f('uq_machine_topic_mapping_machine_id'))
    )
    op.create_table('machine_live',
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('running', 'idle', 'setup', 'down', 'off', name='machinestate', native_enum=False, length=8), nullable=True),
    sa.Column('state_since', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('state_ts', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=120), nullable=True),
    sa.Column('counter_ts', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('good', sa.BigInteger(), nullable=True),
    sa.Column('scrap', sa.BigInteger(), nullable=True),
    sa.Column('last_message_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('clock_offset_seconds', sa.Integer(), nullable=True),
    sa.Column('idle_since', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('marked_unavailable', sa.Boolean(), nullable=False),
    sa.Column('downtime_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['downtime_id'], ['machine_downtime.id'], name=op.f('fk_machine_live_downtime_id_machine_downtime'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_live_machine_id_machine'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('machine_id', name=op.f('pk_machine_live'))
    )
    op.create_table('machine_counter_reading',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('ts', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('good', sa.BigInteger(), nullable=False),
    sa.Column('scrap', sa.BigInteger(), nullable=False),
    sa.Column('good_delta', sa.BigInteger(), nullable=False),
    sa.Column('scrap_delta', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=True),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('received_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('good_delta >= 0 AND scrap_delta >= 0', name=op.f('ck_machine_counter_reading_deltas')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_counter_reading_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_machine_counter_reading_operation_id_operation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['production_report.id'], name=op.f('fk_machine_counter_reading_report_id_production_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_counter_reading')),
    sa.UniqueConstraint('machine_id', 'ts', name=op.f('uq_machine_counter_reading_machine_id_ts'))
    )
    with op.batch_alter_table('machine_counter_reading', schema=None) as batch_op:
        batch_op.create_index('ix_machine_counter_reading_operation', ['operation_id'], unique=False)

    with op.batch_alter_table('machine_downtime', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='manual', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('machine_downtime', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('machine_counter_reading', schema=None) as batch_op:
        batch_op.drop_index('ix_machine_counter_reading_operation')

    op.drop_table('machine_counter_reading')
    op.drop_table('machine_live')
    op.drop_table('machine_topic_mapping')
    op.drop_table('machine_state_event')
    with op.batch_alter_table('machine_dead_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_dead_letter_received_at'))

    op.drop_table('machine_dead_letter')
    with op.batch_alter_table('machine_alarm', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_alarm_machine_id'))

    op.drop_table('machine_alarm')
    op.drop_table('andon_display_link')
