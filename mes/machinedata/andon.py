"""The andon board: every machine's state, the order and operation on it, today's OEE and the
time since its last change, for a big screen; and the revocable display links that show it on
a TV without login (only a digest of each link's token is kept)."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mes.core.clock import day_end, day_start, plant_today
from mes.core.db import get_db, transaction, utcnow
from mes.core.errors import NotFound, ValidationError
from mes.machinedata import oee, services
from mes.machinedata.models import DisplayLink, MachineAlarm, MachineLive
from mes.machines.models import Machine, MachineStatus, WorkCenter
from mes.orders.models import Operation, OperationStatus

#: A display link's last use is written at most this often.
LAST_USED_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Tile:
    machine_id: int
    code: str
    name: str
    work_center: str
    state: str  # running|idle|setup|down|off, or "manual" (no machine data)/"unknown"
    connected: bool
    order: str | None
    operation: str | None
    since: dt.datetime | None
    oee: oee.Oee
    unavailable: bool
    alarm: str | None = None  # the machine's latest alarm, while it is active
    clock_off: bool = False  # the gateway's clock is off by more than the tolerance


def board(work_center_id: int | None = None) -> list[Tile]:
    """The tiles of every machine not retired (of one work center when given)."""
    today = plant_today()
    start, end = day_start(today).astimezone(dt.UTC), day_end(today).astimezone(dt.UTC)
    with get_db().read_session() as s:
        query = (select(Machine).where(Machine.status != MachineStatus.RETIRED)
                 .options(selectinload(Machine.work_center)).order_by(Machine.code))
        if work_center_id is not None:
            query = query.where(Machine.work_center_id == work_center_id)
        machines = list(s.scalars(query))
        ids = [m.id for m in machines]
        live = {r.machine_id: r for r in s.scalars(select(MachineLive).where(MachineLive.machine_id.in_(ids)))}
        running = _running(s, ids)
        alarms = _active_alarms(s, ids)
    figures = services.oee_inputs(start, end, ids) if ids else {}
    tiles = []
    for m in machines:
        row = live.get(m.id)
        op = running.get(m.id)
        connected = m.has_data_connection and row is not None and row.state is not None
        if connected:
            state, since = str(row.state), row.state_since
        elif op is not None:
            state = "setup" if op.phase == "setup" else ("running" if op.status == OperationStatus.IN_PROGRESS else "idle")
            since = op.started_at
        else:
            state, since = "manual", None
        tiles.append(Tile(
            machine_id=m.id, code=m.code, name=m.name, work_center=m.work_center.code, state=state, connected=connected,
            order=op.work_order.number if op else None, operation=f"{op.seq} {op.name}" if op else None,
            since=since, oee=oee.compute(figures.get(m.id, oee.EMPTY)), unavailable=m.status != MachineStatus.AVAILABLE,
            alarm=alarms.get(m.id),
            clock_off=connected and row.clock_offset_seconds is not None
            and abs(row.clock_offset_seconds) > current_app.config["MQTT_CLOCK_TOLERANCE_SECONDS"],
        ))
    return tiles


def _running(s: Session, machine_ids: list[int]) -> dict[int, Operation]:
    rows = s.scalars(select(Operation).where(Operation.machine_id.in_(machine_ids),
                                             Operation.status.in_([OperationStatus.IN_PROGRESS, OperationStatus.PAUSED]))
                     .options(selectinload(Operation.work_order)).order_by(Operation.started_at)).all()
    return {op.machine_id: op for op in rows}  # the latest started wins


def _active_alarms(s: Session, machine_ids: list[int]) -> dict[int, str]:
    """Per machine, its newest alarm if that one is active (code and text)."""
    newest = (select(MachineAlarm.machine_id, func.max(MachineAlarm.ts).label("ts"))
              .where(MachineAlarm.machine_id.in_(machine_ids)).group_by(MachineAlarm.machine_id).subquery())
    rows = s.execute(select(MachineAlarm).join(newest, (newest.c.machine_id == MachineAlarm.machine_id)
                                               & (newest.c.ts == MachineAlarm.ts))).scalars()
    out: dict[int, str] = {}
    for alarm in rows:
        if alarm.active:
            out[alarm.machine_id] = f"{alarm.code} {alarm.text or ''}".strip()
        else:
            out.pop(alarm.machine_id, None)
    return out


# --- display links -------------------------------------------------------------------------------


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def create_link(name: str, work_center_id: int | None, user_id: int | None) -> str:
    """A new display link; the token is shown once and only its digest kept."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError(fields={"name": [_l("Give the screen a name (at most 120 characters).")]})
    token = secrets.token_urlsafe(24)
    with transaction() as s:
        if work_center_id is not None and s.get(WorkCenter, work_center_id) is None:
            raise ValidationError(fields={"work_center_id": [_l("Choose a work center from the list.")]})
        s.add(DisplayLink(name=name, digest=digest(token), work_center_id=work_center_id, created_by_id=user_id))
    return token


def revoke_link(link_id: int) -> None:
    with transaction() as s:
        row = s.get(DisplayLink, link_id, with_for_update=True)
        if row is None:
            raise NotFound()
        if row.revoked_at is None:
            row.revoked_at = utcnow()


def link_for(token: str) -> DisplayLink | None:
    """The live display link of ``token`` (None when unknown or revoked); notes its use."""
    if not token or len(token) > 100:
        return None
    with get_db().read_session() as s:
        row = s.scalar(select(DisplayLink).where(DisplayLink.digest == digest(token), DisplayLink.revoked_at.is_(None)))
    if row is not None and (row.last_used_at is None or utcnow() - row.last_used_at > LAST_USED_EVERY):
        with transaction() as s:
            s.execute(DisplayLink.__table__.update().where(DisplayLink.id == row.id).values(last_used_at=utcnow()))
    return row
