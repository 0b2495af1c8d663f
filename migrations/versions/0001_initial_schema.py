"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25

The audit log and production reports are append-only: triggers refuse UPDATE and DELETE on
them (and TRUNCATE on PostgreSQL), whatever the application does.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    op.create_table('product_family',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_family')),
    sa.UniqueConstraint('code', name=op.f('uq_product_family_code'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('employee_no', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('badge_digest', sa.String(length=64), nullable=True),
    sa.Column('pin_hash', sa.String(length=255), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('badge_digest', name=op.f('uq_user_account_badge_digest')),
    sa.UniqueConstraint('employee_no', name=op.f('uq_user_account_employee_no')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('work_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_calendar')),
    sa.UniqueConstraint('code', name=op.f('uq_work_calendar_code'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_token_digest'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_audit_log_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_record', ['entity', 'entity_id'], unique=False)

    op.create_table('calendar_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['calendar_id'], ['work_calendar.id'], name=op.f('fk_calendar_exception_calendar_id_work_calendar'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_exception')),
    sa.UniqueConstraint('calendar_id', 'day', name=op.f('uq_calendar_exception_calendar_id_day'))
    )
    op.create_table('calendar_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.CheckConstraint('start_minute >= 0 AND end_minute > start_minute AND end_minute <= 2880', name=op.f('ck_calendar_shift_span')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_calendar_shift_weekday')),
    sa.ForeignKeyConstraint(['calendar_id'], ['work_calendar.id'], name=op.f('fk_calendar_shift_calendar_id_work_calendar'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_shift'))
    )
    with op.batch_alter_table('calendar_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_shift_calendar_id'), ['calendar_id'], unique=False)

    op.create_table('idempotency_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idempotency_key_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_key_user_id_key'))
    )
    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('drawing', sa.String(length=120), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['product_family.id'], name=op.f('fk_product_family_id_product_family')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('code', name=op.f('uq_product_code'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_family_id'), ['family_id'], unique=False)

    op.create_table('schedule_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('running', 'failed', 'draft', 'published', 'superseded', name='schedulestatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('origin', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('time_limit_s', sa.Integer(), nullable=False),
    sa.Column('workers', sa.Integer(), nullable=False),
    sa.Column('solver_status', sa.String(length=24), nullable=True),
    sa.Column('phase', sa.String(length=24), nullable=True),
    sa.Column('objective_json', sa.Text(), nullable=True),
    sa.Column('lower_bound', sa.Integer(), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.Column('progress_json', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('published_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_schedule_version_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_schedule_version_published_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_version'))
    )
    with op.batch_alter_table('schedule_version', schema=None) as batch_op:
        batch_op.create_index('uq_schedule_one_published', ['status'], unique=True, sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))

    op.create_table('user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_role_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_role'))
    )
    op.create_table('work_center',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('default_changeover_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['work_calendar.id'], name=op.f('fk_work_center_calendar_id_work_calendar')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_center')),
    sa.UniqueConstraint('code', name=op.f('uq_work_center_code'))
    )
    op.create_table('kiosk_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('work_center_id', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('enrolled_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
    sa.Column('last_seen_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enrolled_by_id'], ['user_account.id'], name=op.f('fk_kiosk_device_enrolled_by_id_user_account')),
    sa.ForeignKeyConstraint(['work_center_id'], ['work_center.id'], name=op.f('fk_kiosk_device_work_center_id_work_center')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_device')),
    sa.UniqueConstraint('digest', name=op.f('uq_kiosk_device_digest'))
    )
    op.create_table('machine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('work_center_id', sa.Integer(), nullable=False),
    sa.Column('make', sa.String(length=80), nullable=True),
    sa.Column('model', sa.String(length=80), nullable=True),
    sa.Column('year_built', sa.Integer(), nullable=True),
    sa.Column('has_data_connection', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('available', 'down', 'maintenance', 'retired', name='machinestatus', native_enum=False, length=16), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('speed_factor', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('year_built IS NULL OR year_built BETWEEN 1900 AND 2100', name=op.f('ck_machine_year')),
    sa.ForeignKeyConstraint(['calendar_id'], ['work_calendar.id'], name=op.f('fk_machine_calendar_id_work_calendar')),
    sa.ForeignKeyConstraint(['work_center_id'], ['work_center.id'], name=op.f('fk_machine_work_center_id_work_center')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine')),
    sa.UniqueConstraint('code', name=op.f('uq_machine_code'))
    )
    with op.batch_alter_table('machine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_work_center_id'), ['work_center_id'], unique=False)

    op.create_table('routing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'released', 'obsolete', name='routingstatus', native_enum=False, length=16), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_routing_product_id_product')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_routing_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing')),
    sa.UniqueConstraint('product_id', 'version_no', name=op.f('uq_routing_product_id_version_no'))
    )
    with op.batch_alter_table('routing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_product_id'), ['product_id'], unique=False)

    op.create_table('setup_matrix_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_center_id', sa.Integer(), nullable=False),
    sa.Column('from_family_id', sa.Integer(), nullable=False),
    sa.Column('to_family_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes >= 0', name=op.f('ck_setup_matrix_entry_minutes')),
    sa.ForeignKeyConstraint(['from_family_id'], ['product_family.id'], name=op.f('fk_setup_matrix_entry_from_family_id_product_family')),
    sa.ForeignKeyConstraint(['to_family_id'], ['product_family.id'], name=op.f('fk_setup_matrix_entry_to_family_id_product_family')),
    sa.ForeignKeyConstraint(['work_center_id'], ['work_center.id'], name=op.f('fk_setup_matrix_entry_work_center_id_work_center'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_setup_matrix_entry')),
    sa.UniqueConstraint('work_center_id', 'from_family_id', 'to_family_id', name=op.f('uq_setup_matrix_entry_work_center_id_from_family_id_to_family_id'))
    )
    with op.batch_alter_table('setup_matrix_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setup_matrix_entry_work_center_id'), ['work_center_id'], unique=False)

    op.create_table('machine_downtime',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > starts_at', name=op.f('ck_machine_downtime_span')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_machine_downtime_machine_id_machine')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_downtime'))
    )
    with op.batch_alter_table('machine_downtime', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_downtime_machine_id'), ['machine_id'], unique=False)

    op.create_table('routing_operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('routing_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('work_center_id', sa.Integer(), nullable=False),
    sa.Column('setup_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('run_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('transfer_batch', sa.Integer(), nullable=True),
    sa.Column('inspection_required', sa.Boolean(), nullable=False),
    sa.Column('drawing', sa.String(length=120), nullable=True),
    sa.Column('program_no', sa.String(length=64), nullable=True),
    sa.Column('follows_previous', sa.Boolean(), nullable=False),
    sa.CheckConstraint('setup_minutes >= 0 AND run_minutes >= 0', name=op.f('ck_routing_operation_times')),
    sa.CheckConstraint('transfer_batch IS NULL OR transfer_batch > 0', name=op.f('ck_routing_operation_transfer_batch')),
    sa.ForeignKeyConstraint(['routing_id'], ['routing.id'], name=op.f('fk_routing_operation_routing_id_routing'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_center_id'], ['work_center.id'], name=op.f('fk_routing_operation_work_center_id_work_center')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_operation')),
    sa.UniqueConstraint('routing_id', 'seq', name=op.f('uq_routing_operation_routing_id_seq'))
    )
    with op.batch_alter_table('routing_operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_operation_routing_id'), ['routing_id'], unique=False)

    op.create_table('work_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('release_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('priority', sa.Enum('low', 'normal', 'high', 'urgent', name='priority', native_enum=False, length=8), nullable=False),
    sa.Column('customer', sa.String(length=120), nullable=True),
    sa.Column('status', sa.Enum('draft', 'released', 'in_progress', 'completed', 'closed', 'on_hold', 'cancelled', name='workorderstatus', native_enum=False, length=16), nullable=False),
    sa.Column('held_from', sa.Enum('draft', 'released', 'in_progress', 'completed', 'closed', 'on_hold', 'cancelled', name='workorderstatus', native_enum=False, length=16), nullable=True),
    sa.Column('routing_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('released_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_work_order_quantity')),
    sa.CheckConstraint('release_date IS NULL OR due_date >= release_date', name=op.f('ck_work_order_dates')),
    sa.ForeignKeyConstraint(['parent_id'], ['work_order.id'], name=op.f('fk_work_order_parent_id_work_order')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_work_order_product_id_product')),
    sa.ForeignKeyConstraint(['routing_id'], ['routing.id'], name=op.f('fk_work_order_routing_id_routing')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_work_order_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order')),
    sa.UniqueConstraint('number', name=op.f('uq_work_order_number'))
    )
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_work_order_status_due', ['status', 'due_date'], unique=False)

    op.create_table('operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=True),
    sa.Column('work_center_id', sa.Integer(), nullable=False),
    sa.Column('setup_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('run_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('transfer_batch', sa.Integer(), nullable=True),
    sa.Column('inspection_required', sa.Boolean(), nullable=False),
    sa.Column('drawing', sa.String(length=120), nullable=True),
    sa.Column('program_no', sa.String(length=64), nullable=True),
    sa.Column('follows_previous', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'in_progress', 'paused', 'done', 'skipped', name='operationstatus', native_enum=False, length=16), nullable=False),
    sa.Column('qty_good', sa.Integer(), nullable=False),
    sa.Column('qty_scrap', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('started_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source_operation_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('qty_good >= 0 AND qty_scrap >= 0', name=op.f('ck_operation_quantities')),
    sa.CheckConstraint('setup_minutes >= 0 AND run_minutes >= 0', name=op.f('ck_operation_times')),
    sa.CheckConstraint('transfer_batch IS NULL OR transfer_batch > 0', name=op.f('ck_operation_transfer_batch')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_operation_machine_id_machine')),
    sa.ForeignKeyConstraint(['source_operation_id'], ['routing_operation.id'], name=op.f('fk_operation_source_operation_id_routing_operation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['work_center_id'], ['work_center.id'], name=op.f('fk_operation_work_center_id_work_center')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_operation_work_order_id_work_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation')),
    sa.UniqueConstraint('work_order_id', 'seq', name=op.f('uq_operation_work_order_id_seq'))
    )
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.create_index('ix_operation_wc_status', ['work_center_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_operation_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('routing_edge',
    sa.Column('routing_id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['predecessor_id'], ['routing_operation.id'], name=op.f('fk_routing_edge_predecessor_id_routing_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['routing_id'], ['routing.id'], name=op.f('fk_routing_edge_routing_id_routing'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['successor_id'], ['routing_operation.id'], name=op.f('fk_routing_edge_successor_id_routing_operation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('predecessor_id', 'successor_id', name=op.f('pk_routing_edge'))
    )
    with op.batch_alter_table('routing_edge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_edge_routing_id'), ['routing_id'], unique=False)

    op.create_table('routing_operation_machine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('setup_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('run_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.CheckConstraint('setup_minutes >= 0 AND run_minutes >= 0', name=op.f('ck_routing_operation_machine_times')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_routing_operation_machine_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['routing_operation.id'], name=op.f('fk_routing_operation_machine_operation_id_routing_operation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_operation_machine')),
    sa.UniqueConstraint('operation_id', 'machine_id', name=op.f('uq_routing_operation_machine_operation_id_machine_id'))
    )
    with op.batch_alter_table('routing_operation_machine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_operation_machine_operation_id'), ['operation_id'], unique=False)

    op.create_table('operation_edge',
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['predecessor_id'], ['operation.id'], name=op.f('fk_operation_edge_predecessor_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['successor_id'], ['operation.id'], name=op.f('fk_operation_edge_successor_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_operation_edge_work_order_id_work_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('predecessor_id', 'successor_id', name=op.f('pk_operation_edge'))
    )
    with op.batch_alter_table('operation_edge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_edge_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('operation_machine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('setup_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.Column('run_minutes', sa.Numeric(precision=10, scale=3), nullable=False),
    sa.CheckConstraint('setup_minutes >= 0 AND run_minutes >= 0', name=op.f('ck_operation_machine_times')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_operation_machine_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_operation_machine_operation_id_operation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operation_machine')),
    sa.UniqueConstraint('operation_id', 'machine_id', name=op.f('uq_operation_machine_operation_id_machine_id'))
    )
    with op.batch_alter_table('operation_machine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operation_machine_operation_id'), ['operation_id'], unique=False)

    op.create_table('operation_pin',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('start_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pinned_by_id', sa.Integer(), nullable=True),
    sa.Column('pinned_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_operation_pin_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_operation_pin_operation_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pinned_by_id'], ['user_account.id'], name=op.f('fk_operation_pin_pinned_by_id_user_account')),
    sa.PrimaryKeyConstraint('operation_id', name=op.f('pk_operation_pin'))
    )
    op.create_table('production_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('production', 'correction', 'transfer', name='reportkind', native_enum=False, length=16), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('good_qty', sa.Integer(), nullable=False),
    sa.Column('scrap_qty', sa.Integer(), nullable=False),
    sa.Column('scrap_reason', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reported_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("kind <> 'correction' OR reverses_id IS NOT NULL", name=op.f('ck_production_report_reverses')),
    sa.CheckConstraint("kind <> 'production' OR (good_qty >= 0 AND scrap_qty >= 0)", name=op.f('ck_production_report_quantities')),
    sa.CheckConstraint("kind = 'production' OR reason IS NOT NULL", name=op.f('ck_production_report_reason')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_production_report_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_production_report_operation_id_operation')),
    sa.ForeignKeyConstraint(['reverses_id'], ['production_report.id'], name=op.f('fk_production_report_reverses_id_production_report')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_production_report_user_id_user_account')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_production_report_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_production_report'))
    )
    with op.batch_alter_table('production_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_production_report_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_production_report_reported_at'), ['reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_production_report_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('scheduled_operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('setup_start_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('start_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_scheduled_operation_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_scheduled_operation_operation_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedule_version.id'], name=op.f('fk_scheduled_operation_schedule_id_schedule_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_operation')),
    sa.UniqueConstraint('schedule_id', 'operation_id', name=op.f('uq_scheduled_operation_schedule_id_operation_id'))
    )
    with op.batch_alter_table('scheduled_operation', schema=None) as batch_op:
        batch_op.create_index('ix_scheduled_operation_machine_start', ['schedule_id', 'machine_id', 'start_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_operation_operation_id'), ['operation_id'], unique=False)
    create_append_only_triggers()


def downgrade() -> None:
    drop_append_only_triggers()
    with op.batch_alter_table('scheduled_operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_operation_operation_id'))
        batch_op.drop_index('ix_scheduled_operation_machine_start')

    op.drop_table('scheduled_operation')
    with op.batch_alter_table('production_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_production_report_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_production_report_reported_at'))
        batch_op.drop_index(batch_op.f('ix_production_report_operation_id'))

    op.drop_table('production_report')
    op.drop_table('operation_pin')
    with op.batch_alter_table('operation_machine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_machine_operation_id'))

    op.drop_table('operation_machine')
    with op.batch_alter_table('operation_edge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_edge_work_order_id'))

    op.drop_table('operation_edge')
    with op.batch_alter_table('routing_operation_machine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_operation_machine_operation_id'))

    op.drop_table('routing_operation_machine')
    with op.batch_alter_table('routing_edge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_edge_routing_id'))

    op.drop_table('routing_edge')
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operation_work_order_id'))
        batch_op.drop_index('ix_operation_wc_status')

    op.drop_table('operation')
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_status_due')
        batch_op.drop_index(batch_op.f('ix_work_order_product_id'))
        batch_op.drop_index(batch_op.f('ix_work_order_due_date'))

    op.drop_table('work_order')
    with op.batch_alter_table('routing_operation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_operation_routing_id'))

    op.drop_table('routing_operation')
    with op.batch_alter_table('machine_downtime', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_downtime_machine_id'))

    op.drop_table('machine_downtime')
    with op.batch_alter_table('setup_matrix_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setup_matrix_entry_work_center_id'))

    op.drop_table('setup_matrix_entry')
    with op.batch_alter_table('routing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_product_id'))

    op.drop_table('routing')
    with op.batch_alter_table('machine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_work_center_id'))

    op.drop_table('machine')
    op.drop_table('kiosk_device')
    op.drop_table('work_center')
    op.drop_table('user_role')
    with op.batch_alter_table('schedule_version', schema=None) as batch_op:
        batch_op.drop_index('uq_schedule_one_published', sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"))

    op.drop_table('schedule_version')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_family_id'))

    op.drop_table('product')
    op.drop_table('idempotency_key')
    with op.batch_alter_table('calendar_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_shift_calendar_id'))

    op.drop_table('calendar_shift')
    op.drop_table('calendar_exception')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_record')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('work_calendar')
    op.drop_table('user_account')
    op.drop_table('product_family')
    op.drop_table('login_throttle')


APPEND_ONLY = ("audit_log", "production_report")


def create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION mes_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION mes_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION mes_refuse_change()"
            )
    else:
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS mes_refuse_change()")
    else:
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
