"""shop floor terminal: reason lists, the operation's phase and pause reason, labour time

Revision ID: 0130
Revises: 0003
Create Date: 2026-12-02

Reason lists (pause, scrap, downtime) start with a default set in both languages; labour records
are append-only like production reports.
"""
from alembic import op
import sqlalchemy as sa
import mes.core.db


revision = '0130'
down_revision = '0120'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reason',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pause', 'scrap', 'downtime', name='reasonkind', native_enum=False, length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reason')),
    sa.UniqueConstraint('kind', 'code', name=op.f('uq_reason_kind_code'))
    )
    op.create_table('labour_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('phase', sa.String(length=8), nullable=False),
    sa.Column('started_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_labour_clock_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_labour_clock_operation_id_operation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_labour_clock_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labour_clock')),
    sa.UniqueConstraint('user_id', 'operation_id', name=op.f('uq_labour_clock_user_id_operation_id'))
    )
    with op.batch_alter_table('labour_clock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labour_clock_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_labour_clock_user_id'), ['user_id'], unique=False)

    op.create_table('labour_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('phase', sa.String(length=8), nullable=False),
    sa.Column('started_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', mes.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('shared_by', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('recorded_at', mes.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source <> 'manual' OR reason IS NOT NULL", name=op.f('ck_labour_record_reason')),
    sa.CheckConstraint('minutes >= 0', name=op.f('ck_labour_record_minutes')),
    sa.CheckConstraint('shared_by >= 1', name=op.f('ck_labour_record_shared_by')),
    sa.ForeignKeyConstraint(['machine_id'], ['machine.id'], name=op.f('fk_labour_record_machine_id_machine')),
    sa.ForeignKeyConstraint(['operation_id'], ['operation.id'], name=op.f('fk_labour_record_operation_id_operation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_labour_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labour_record'))
    )
    with op.batch_alter_table('labour_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labour_record_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_labour_record_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('machine_downtime', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_machine_downtime_reason_id_reason'), 'reason', ['reason_id'], ['id'])

    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phase', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('pause_reason_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_operation_pause_reason_id_reason'), 'reason', ['pause_reason_id'], ['id'])

    _seed_reasons()
    _append_only("labour_record")


def downgrade() -> None:
    _drop_append_only("labour_record")
    with op.batch_alter_table('operation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_operation_pause_reason_id_reason'), type_='foreignkey')
        batch_op.drop_column('pause_reason_id')
        batch_op.drop_column('phase')

    with op.batch_alter_table('machine_downtime', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_machine_downtime_reason_id_reason'), type_='foreignkey')
        batch_op.drop_column('reason_id')

    with op.batch_alter_table('labour_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labour_record_user_id'))
        batch_op.drop_index(batch_op.f('ix_labour_record_operation_id'))

    op.drop_table('labour_record')
    with op.batch_alter_table('labour_clock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labour_clock_user_id'))
        batch_op.drop_index(batch_op.f('ix_labour_clock_operation_id'))

    op.drop_table('labour_clock')
    op.drop_table('reason')


# The lists as this revision ships them (the model's DEFAULT_REASONS may grow later).
DEFAULT_REASONS = (
    ("pause", "material", "Waiting for material", "等待物料"),
    ("pause", "machine_fault", "Machine fault", "设备故障"),
    ("pause", "break", "Break", "休息"),
    ("pause", "quality_hold", "Quality hold", "质量暂停"),
    ("pause", "tooling", "Tooling", "工装刀具"),
    ("pause", "other", "Other", "其他"),
    ("scrap", "dimension", "Out of tolerance", "尺寸超差"),
    ("scrap", "surface", "Surface defect", "表面缺陷"),
    ("scrap", "material", "Material defect", "材料缺陷"),
    ("scrap", "setup", "Setup piece", "调机件"),
    ("scrap", "handling", "Damaged in handling", "搬运损坏"),
    ("scrap", "other", "Other", "其他"),
    ("downtime", "breakdown", "Breakdown", "设备故障停机"),
    ("downtime", "tool_break", "Tool breakage", "断刀"),
    ("downtime", "power", "Power or air failure", "断电或断气"),
    ("downtime", "repair", "Unplanned maintenance", "计划外维修"),
    ("downtime", "no_operator", "No operator", "无人操作"),
    ("downtime", "other", "Other", "其他"),
)


def _seed_reasons() -> None:
    table = sa.table("reason", sa.column("kind"), sa.column("code"), sa.column("name_en"), sa.column("name_zh"),
                     sa.column("active"), sa.column("sort_order"))
    op.bulk_insert(table, [
        {"kind": kind, "code": code, "name_en": en, "name_zh": zh, "active": True, "sort_order": (i + 1) * 10}
        for i, (kind, code, en, zh) in enumerate(DEFAULT_REASONS)
    ])


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # mes_refuse_change() comes with the initial schema.
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION mes_refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
