"""Master-data pages: work centers, machines, shift calendars and product families: create, edit
with the version drawn, refuse bad input by field with nothing saved, retire instead of delete."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from mes.core.db import session
from mes.core.models import AuditEntry
from mes.machines import services
from mes.machines.models import CalendarException, CalendarShift, Machine, MachineStatus, WorkCalendar, WorkCenter
from mes.routing.models import ProductFamily


def fresh():  # type: ignore[no-untyped-def]
    """The test's session in a new read transaction: it sees what the requests committed."""
    session().rollback()
    return session()


def _count(model) -> int:  # type: ignore[no-untyped-def]
    session().rollback()
    return fresh().scalar(select(func.count()).select_from(model))


def test_work_center_pages(as_role, plant):
    client = as_role("planner")
    assert client.get("/machines/centers/").status_code == 200
    assert client.get("/machines/centers/new").status_code == 200
    r = client.post("/machines/centers/new", data={"code": "turn", "name": "", "default_changeover_minutes": "-5"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "The code turn is already in use." in body and "This field is required." in body and "0 to 10000" in body
    assert _count(WorkCenter) == 2
    r = client.post("/machines/centers/new", data={"code": "GRIND", "name": "Grinding", "default_changeover_minutes": "15"})
    assert r.status_code == 303
    center = fresh().scalar(select(WorkCenter).where(WorkCenter.code == "GRIND"))
    assert center.default_changeover_minutes == 15 and center.active
    r = client.post(f"/machines/centers/{center.id}", data={"code": "GRIND", "name": "Grinding 2", "default_changeover_minutes": "5"})
    assert r.status_code == 422  # no version
    r = client.post(f"/machines/centers/{center.id}", data={"code": "GRIND", "name": "Grinding 2",
                                                            "default_changeover_minutes": "5", "version": str(center.version)})
    assert r.status_code == 303
    r = client.post(f"/machines/centers/{center.id}", data={"code": "GRIND", "name": "Stale", "version": str(center.version)})
    assert r.status_code == 409
    session().rollback()
    assert fresh().get(WorkCenter, center.id).name == "Grinding 2"
    assert fresh().scalar(select(AuditEntry).where(AuditEntry.entity == "work_center", AuditEntry.field == "name")) is not None


def test_retiring_a_work_center_with_machines_is_refused(as_role, plant):
    client = as_role("admin")
    center = fresh().get(WorkCenter, plant.mill)
    r = client.post(f"/machines/centers/{plant.mill}/lifecycle", data={"version": center.version})
    assert r.status_code == 409 and "M-1" in r.get_data(as_text=True)
    machine = fresh().get(Machine, plant.m1)
    assert client.post(f"/machines/{plant.m1}/lifecycle", data={"version": machine.version}).status_code == 303
    session().rollback()
    center = fresh().get(WorkCenter, plant.mill)
    assert client.post(f"/machines/centers/{plant.mill}/lifecycle", data={"version": center.version}).status_code == 303
    session().rollback()
    assert not fresh().get(WorkCenter, plant.mill).active
    assert fresh().get(Machine, plant.m1).status == MachineStatus.RETIRED
    # a retired work center takes no new machines
    r = client.post("/machines/new", data={"code": "M-2", "name": "Mill 2", "work_center_id": str(plant.mill), "speed_factor": "1"})
    assert r.status_code == 422 and "Unknown work center." in r.get_data(as_text=True)


def test_machine_pages(as_role, plant):
    client = as_role("planner")
    assert client.get("/machines/new").status_code == 200
    r = client.post("/machines/new", data={"code": "L-NEW", "name": "x", "work_center_id": "99999", "year_built": "1850",
                                           "speed_factor": "abc"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    for text in ("already in use", "Unknown work center.", "Enter a year from 1900", "Enter a factor"):
        assert text in body, text
    assert _count(Machine) == 3
    r = client.post("/machines/new", data={"code": "L-3", "name": "Third lathe", "work_center_id": str(plant.turn),
                                           "make": "Haas", "model": "ST-20", "year_built": "2018", "speed_factor": "1.2",
                                           "has_data_connection": "1"})
    assert r.status_code == 303, r.data
    machine = fresh().scalar(select(Machine).where(Machine.code == "L-3"))
    assert str(machine.speed_factor.normalize()) == "1.2" and machine.has_data_connection and machine.make == "Haas"
    assert client.get(f"/machines/{machine.id}/edit").status_code == 200
    r = client.post(f"/machines/{machine.id}/edit", data={"code": "L-3", "name": "Third lathe", "work_center_id": str(plant.turn),
                                                          "speed_factor": "1", "status": "maintenance",
                                                          "version": str(machine.version)})
    assert r.status_code == 303
    session().rollback()
    machine = fresh().get(Machine, machine.id)
    assert machine.status == MachineStatus.MAINTENANCE and not machine.has_data_connection and machine.make is None


def test_retiring_a_machine_with_planned_work_is_refused(as_role, plant, make_order):
    from mes.scheduling import services as scheduling
    from mes.scheduling.models import ScheduledOperation, ScheduleVersion

    make_order()
    schedule_id = scheduling.start_run(time_limit=2, workers=1, wait=True)
    session().rollback()
    scheduling.publish(schedule_id, fresh().get(ScheduleVersion, schedule_id).version)
    session().rollback()
    busy = fresh().scalar(select(ScheduledOperation.machine_id).where(ScheduledOperation.schedule_id == schedule_id))
    machine = fresh().get(Machine, busy)
    client = as_role("planner")
    r = client.post(f"/machines/{busy}/lifecycle", data={"version": machine.version})
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "still has planned or running operations" in body and "WO-" in body
    session().rollback()
    assert fresh().get(Machine, busy).status == MachineStatus.AVAILABLE


def test_open_breakdown_shows_on_the_list_and_the_tile(as_role, plant):
    from mes.core.db import utcnow

    services.record_downtime(plant.new, utcnow() - dt.timedelta(hours=1), None, "breakdown", "spindle")
    services.record_downtime(plant.m1, utcnow() + dt.timedelta(days=3), None, "maintenance", None)  # not yet
    body = as_role("planner").get("/machines/").get_data(as_text=True)
    assert "status-down" in body and "open downtime" in body
    owner = as_role("owner").get("/").get_data(as_text=True)
    assert '<span class="figure">1</span><span>Machines down or in maintenance' in owner


def test_calendar_pages(as_role, plant):
    client = as_role("planner")
    assert client.get("/machines/calendars/").status_code == 200
    assert client.get("/machines/calendars/new").status_code == 200
    r = client.post("/machines/calendars/new", data={"code": "C1", "name": "Day shift", "day-0": "08:00-12:00, 11:00-17:00",
                                                     "day-1": "17:00-08:00", "day-2": "8-12"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Shifts overlap" in body and "ends before it starts" in body and "Write shifts as" in body
    assert _count(WorkCalendar) == 0 and _count(CalendarShift) == 0
    week = {f"day-{d}": "08:00-12:00, 13:00-17:00" for d in range(5)}
    r = client.post("/machines/calendars/new", data={"code": "C1", "name": "Day shift", **week, "day-6": "22:00-06:00+1"})
    assert r.status_code == 303, r.data
    calendar = fresh().scalar(select(WorkCalendar))
    assert len(calendar.shifts) == 11 and (6, 1320, 1800) in [(s.weekday, s.start_minute, s.end_minute) for s in calendar.shifts]
    # Sunday's night shift runs into Monday's first shift
    r = client.post(f"/machines/calendars/{calendar.id}", data={"code": "C1", "name": "Day shift", **week,
                                                                 "day-0": "05:00-12:00", "day-6": "22:00-06:00+1",
                                                                 "version": str(calendar.version)})
    assert r.status_code == 422 and "Shifts overlap" in r.get_data(as_text=True)
    page = client.get(f"/machines/calendars/{calendar.id}").get_data(as_text=True)
    assert "22:00-06:00+1" in page
    # a holiday and the Saturday that moves it
    session().rollback()
    version = fresh().get(WorkCalendar, calendar.id).version
    r = client.post(f"/machines/calendars/{calendar.id}/exceptions", data={"day": "2027-02-08", "working": "0",
                                                                            "note": "Spring Festival", "version": version})
    assert r.status_code == 303
    session().rollback()
    version = fresh().get(WorkCalendar, calendar.id).version
    r = client.post(f"/machines/calendars/{calendar.id}/exceptions", data={"day": "2027-02-06", "working": "1",
                                                                            "note": "make-up day", "version": version})
    assert r.status_code == 303
    session().rollback()
    version = fresh().get(WorkCalendar, calendar.id).version
    for day, text in (("2027-02-06", "already has an entry"), ("1970-01-01", "Enter a date between"), ("2040-01-01", "Enter a date from")):
        r = client.post(f"/machines/calendars/{calendar.id}/exceptions", data={"day": day, "working": "0", "version": version})
        assert r.status_code == 422 and text in r.get_data(as_text=True), day
    assert {(e.day, e.working) for e in fresh().scalars(select(CalendarException))} == {
        (dt.date(2027, 2, 8), False), (dt.date(2027, 2, 6), True)}
    # the scheduler's view: the Saturday works, the Monday does not
    from zoneinfo import ZoneInfo

    from mes.machines.shifts import working_intervals

    tz = ZoneInfo("Asia/Shanghai")
    origin = dt.datetime(2027, 2, 6, tzinfo=tz)
    exceptions = {e.day: e.working for e in fresh().scalars(select(CalendarException))}
    shifts = [(s.weekday, s.start_minute, s.end_minute) for s in fresh().scalars(select(CalendarShift))]
    intervals = working_intervals(shifts, exceptions, tz, origin, 3 * 1440)
    assert (480, 720) in intervals and not any(2 * 1440 <= a < 3 * 1440 for a, _ in intervals)
    # in use by a work center: retiring it is refused
    session().rollback()
    cal = fresh().get(WorkCalendar, calendar.id)
    center = fresh().get(WorkCenter, plant.turn)
    r = client.post(f"/machines/centers/{plant.turn}", data={"code": "TURN", "name": "Turning", "calendar_id": str(cal.id),
                                                              "default_changeover_minutes": "30", "version": center.version})
    assert r.status_code == 303
    r = client.post(f"/machines/calendars/{cal.id}/lifecycle", data={"version": cal.version})
    assert r.status_code == 409 and "TURN" in r.get_data(as_text=True)


def test_family_pages(as_role, plant):
    client = as_role("planner")
    assert client.get("/routings/families/").status_code == 200
    r = client.post("/routings/families/new", data={"code": "fa", "name": ""})
    assert r.status_code == 422 and "already in use" in r.get_data(as_text=True)
    assert client.post("/routings/families/new", data={"code": "FC", "name": "Family C"}).status_code == 303
    fa = fresh().get(ProductFamily, plant.fa)
    r = client.post(f"/routings/families/{plant.fa}/lifecycle", data={"version": fa.version})
    assert r.status_code == 409 and "P-1" in r.get_data(as_text=True)
    fc = fresh().scalar(select(ProductFamily).where(ProductFamily.code == "FC"))
    assert client.post(f"/routings/families/{fc.id}/lifecycle", data={"version": fc.version}).status_code == 303
    session().rollback()
    assert not fresh().get(ProductFamily, fc.id).active
    r = client.post("/routings/products/new", data={"code": "P-9", "name": "x", "family_id": str(fc.id)})
    assert r.status_code == 422


def test_workers_and_owners_cannot_edit_master_data(as_role, plant):
    owner = as_role("owner")
    assert owner.get("/machines/centers/").status_code == 200
    for url in ("/machines/centers/new", "/machines/new", "/machines/calendars/new", "/routings/families/new"):
        assert owner.post(url, data={"code": "X", "name": "X"}).status_code == 403, url


def test_empty_lists_say_what_they_are_for(as_role, users):
    client = as_role("admin")
    assert "Create the first work center" in client.get("/machines/").get_data(as_text=True)
    assert "No work centers yet" in client.get("/machines/centers/").get_data(as_text=True)
    assert "No shift calendars yet" in client.get("/machines/calendars/").get_data(as_text=True)
    assert "No product families yet" in client.get("/routings/families/").get_data(as_text=True)


def test_start_page_of_a_new_plant_shows_the_setup_steps(as_role, plant):
    client = as_role("planner")
    page = client.get("/").get_data(as_text=True)
    assert "Set up the plant" in page
    assert page.count("status-done") == 4 and page.count("status-draft") == 3  # no calendar, order or plan yet
    client = as_role("admin")
    assert "Set up the plant" in client.get("/").get_data(as_text=True)
