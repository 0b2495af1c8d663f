"""The demo plant: a high-mix, low-volume job shop with old and new machines, 40 products in
8 families, flexible routings and about 120 work orders around today (some late, some running,
some finished with reports). Seeded once into an empty database by ``mes demo``."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import func, select

from mes.core import audit
from mes.core.clock import plant_today, plant_tz
from mes.core.db import get_db, session, transaction, utcnow
from mes.core.models import Role, User, UserRole
from mes.core.security import badge_digest, hash_secret
from mes.machines.models import CalendarShift, Machine, MachineDowntime, MachineStatus, WorkCalendar, WorkCenter
from mes.orders import services as orders
from mes.orders.models import OperationStatus, Priority, ProductionReport, WorkOrder, WorkOrderStatus
from mes.routing.models import (
    Product,
    ProductFamily,
    Routing,
    RoutingEdge,
    RoutingOperation,
    RoutingOperationMachine,
    RoutingStatus,
    SetupMatrixEntry,
)
from mes.scheduling import services as scheduling
from mes.scheduling.models import ScheduleStatus, ScheduleVersion
from mes.shopfloor.models import LabourRecord

DEMO_PASSWORD = "demo1234"

LOGINS = [
    # username, name, roles, employee no, badge, PIN
    ("admin", "Admin 管理员", [Role.ADMIN], None, None, None),
    ("owner", "Wang Jianguo 王建国", [Role.OWNER], None, None, None),
    ("planner", "Li Na 李娜", [Role.PLANNER], None, None, None),
    ("quality", "Zhao Min 赵敏", [Role.QUALITY], None, None, None),
    ("worker1", "Zhang Wei 张伟", [Role.WORKER], "1001", "B1001", "1001"),
    ("worker2", "Liu Yang 刘洋", [Role.WORKER], "1002", "B1002", "1002"),
    ("worker3", "Chen Jie 陈杰", [Role.WORKER], "1003", "B1003", "1003"),
    ("worker4", "Yang Fang 杨芳", [Role.WORKER], "1004", "B1004", "1004"),
    ("worker5", "Huang Lei 黄磊", [Role.WORKER], "1005", "B1005", "1005"),
    ("worker6", "Zhou Tao 周涛", [Role.WORKER], "1006", "B1006", "1006"),
]

LOGINS_TEXT = f"""Demo logins (password for office users: {DEMO_PASSWORD})
  admin     administrator      owner     owner (dashboard)
  planner   planner            quality   quality inspector
  Shop-floor terminal (/floor/login): badge B1001 .. B1006, or employee no. 1001 .. 1006 with the same
  number as PIN (PIN login needs a terminal enrolled under Administration > Shop-floor terminals)."""

CALENDARS = {
    # code: (name, [(weekday, start minute, end minute)])
    "1S": ("One shift, Mon-Fri 07:30-16:30", [(d, 450, 990) for d in range(5)]),
    "2S": ("Two shifts, Mon-Fri 06:00-22:00", [(d, 360, 1320) for d in range(5)]),
    "2S6": ("Two shifts, Mon-Sat 06:00-22:00", [(d, 360, 1320) for d in range(6)]),
}

WORK_CENTERS = [
    # code, name, calendar, default changeover minutes
    ("TURN", "Turning 车削", "2S", 40),
    ("MILL", "Milling 铣削", "2S", 45),
    ("DRILL", "Drilling & deburring 钻孔去毛刺", "1S", 15),
    ("GRIND", "Grinding 磨削", "1S", 50),
    ("PAINT", "Paint line 喷涂线", "2S6", 60),
    ("ASSY", "Assembly 装配", "1S", 20),
]

MACHINES = [
    # code, name, work center, make, model, year, data connection, speed (relative), own calendar
    ("L01", "Manual lathe 普通车床", "TURN", "Shenyang", "CA6140", 1998, False, 0.55, "1S"),
    ("L02", "CNC lathe 数控车床", "TURN", "Dalian", "CKA6150", 2012, True, 0.85, None),
    ("L03", "CNC turning center 车削中心", "TURN", "Mazak", "QT-200", 2021, True, 1.0, None),
    ("M01", "Manual mill 普通铣床", "MILL", "Beijing No.1", "X6132", 1995, False, 0.5, "1S"),
    ("M02", "Vertical machining center 立式加工中心", "MILL", "Haas", "VF-2", 2015, True, 0.9, None),
    ("M03", "5-axis machining center 五轴加工中心", "MILL", "DMG Mori", "CMX 1100 V", 2022, True, 1.0, None),
    ("D01", "Radial drill 摇臂钻床", "DRILL", "Zhongjie", "Z3050", 2001, False, 0.7, None),
    ("D02", "Deburring bench 去毛刺工位", "DRILL", None, None, 2010, False, 1.0, None),
    ("G01", "Cylindrical grinder 外圆磨床", "GRIND", "Shanghai", "M1432B", 2005, False, 0.7, None),
    ("G02", "Surface grinder 平面磨床", "GRIND", "Hangzhou", "M7130", 2008, False, 0.8, None),
    ("P01", "Paint booth 喷漆房", "PAINT", "Dürr", "EcoBooth", 2016, True, 1.0, None),
    ("P02", "Curing oven 固化炉", "PAINT", "Dürr", "EcoOven", 2016, True, 1.0, None),
    ("A01", "Assembly bench 1 装配台1", "ASSY", None, None, 2018, False, 1.0, None),
    ("A02", "Assembly bench 2 装配台2", "ASSY", None, None, 2018, False, 1.0, None),
    ("A03", "Assembly bench 3 装配台3", "ASSY", None, None, 2023, False, 1.0, None),
]

FAMILIES = [
    ("SHAFT", "Shafts 轴类"), ("FLANGE", "Flanges 法兰"), ("BRACKET", "Brackets 支架"), ("HOUSING", "Housings 壳体"),
    ("GEAR", "Gears 齿轮"), ("BUSH", "Bushings 轴套"), ("PLATE", "Plates 板件"), ("ASSY", "Assemblies 组件"),
]

# Per family: operations as (name, work center, machines or None for the whole center,
# setup minutes, run minutes per piece on the newest machine, inspection).
ROUTES = {
    "SHAFT": [("Turn 车外圆", "TURN", ["L02", "L03", "L01"], 35, 6.0, False),
              ("Mill keyway 铣键槽", "MILL", ["M02", "M01"], 25, 3.0, False),
              ("Grind 磨外圆", "GRIND", ["G01"], 30, 4.0, True)],
    "FLANGE": [("Turn faces 车端面", "TURN", ["L03", "L02"], 30, 5.0, False),
               ("Drill bolt circle 钻孔", "DRILL", ["D01"], 20, 2.5, False),
               ("Deburr 去毛刺", "DRILL", ["D02"], 5, 1.0, False),
               ("Paint 喷涂", "PAINT", ["P01"], 30, 1.5, True)],
    "BRACKET": [("Mill profile 铣外形", "MILL", ["M02", "M03", "M01"], 40, 7.0, False),
                ("Drill 钻孔", "DRILL", None, 15, 2.0, False),
                ("Paint 喷涂", "PAINT", ["P01"], 30, 1.2, False),
                ("Cure 固化", "PAINT", ["P02"], 10, 0.8, True)],
    "HOUSING": [("Rough mill 粗铣", "MILL", ["M02", "M03"], 45, 12.0, False),
                ("Finish mill 精铣", "MILL", ["M03"], 30, 9.0, True),
                ("Drill & tap 钻孔攻丝", "DRILL", ["D01"], 20, 4.0, False),
                ("Deburr 去毛刺", "DRILL", ["D02"], 5, 2.0, False)],
    "GEAR": [("Turn blank 车坯", "TURN", ["L02", "L03"], 30, 5.0, False),
             ("Mill teeth 铣齿", "MILL", ["M03"], 50, 14.0, False),
             ("Grind bore 磨内孔", "GRIND", ["G01"], 35, 5.0, True)],
    "BUSH": [("Turn 车削", "TURN", ["L01", "L02", "L03"], 20, 3.0, False),
             ("Grind 磨削", "GRIND", ["G01", "G02"], 25, 2.5, True)],
    "PLATE": [("Mill 铣削", "MILL", ["M01", "M02"], 25, 5.0, False),
              ("Surface grind 平磨", "GRIND", ["G02"], 20, 3.0, False),
              ("Drill 钻孔", "DRILL", ["D01"], 10, 1.5, False)],
}
# Assemblies: two parts made in parallel, then joined, then painted.
ASSEMBLY_ROUTE = [
    ("Turn shaft part 车轴件", "TURN", ["L02", "L03"], 30, 6.0, False, None),
    ("Mill housing part 铣壳体件", "MILL", ["M02", "M03"], 40, 10.0, False, []),
    ("Assemble 装配", "ASSY", None, 15, 12.0, True, [10, 20]),
    ("Paint 喷涂", "PAINT", ["P01"], 30, 2.0, False, None),
]

PRODUCT_NAMES = {
    "SHAFT": ["Drive shaft 传动轴", "Pump shaft 泵轴", "Spindle 主轴", "Idler shaft 惰轮轴", "Axle pin 轴销"],
    "FLANGE": ["Pipe flange DN50 管法兰", "Pipe flange DN80 管法兰", "Motor flange 电机法兰", "Blind flange 盲板法兰", "Bearing flange 轴承法兰"],
    "BRACKET": ["Motor bracket 电机支架", "Sensor bracket 传感器支架", "Angle bracket 角支架", "Pump bracket 泵支架", "Rail bracket 导轨支架"],
    "HOUSING": ["Gearbox housing 齿轮箱体", "Valve body 阀体", "Bearing housing 轴承座", "Pump casing 泵壳", "Sensor housing 传感器壳"],
    "GEAR": ["Spur gear Z24 直齿轮", "Spur gear Z36 直齿轮", "Helical gear 斜齿轮", "Sprocket 链轮", "Pinion 小齿轮"],
    "BUSH": ["Bronze bush 铜套", "Guide bush 导套", "Spacer 隔套", "Sleeve 轴套", "Collar 挡圈"],
    "PLATE": ["Base plate 底板", "Cover plate 盖板", "Mounting plate 安装板", "Clamp plate 压板", "Wear plate 耐磨板"],
    "ASSY": ["Pump unit 泵组件", "Gear unit 齿轮组件", "Roller unit 滚轮组件", "Drive unit 驱动组件", "Valve unit 阀组件"],
}

CUSTOMERS = ["Huayang Pumps 华阳泵业", "Nordtech GmbH", "Jinhai Machinery 金海机械", "Delta Valves", "Sanyuan Motors 三元电机",
             "Kesheng Hydraulics 科盛液压", "Bluewater Marine", "Tianyi Automation 天一自动化", "Precision Agri Ltd", "Hengli Gears 恒力齿轮"]


def is_empty() -> bool:
    return not session().scalar(select(func.count()).select_from(User))


def seed(rng_seed: int = 7) -> None:
    """Fill an empty database with the demo plant."""
    rng = random.Random(rng_seed)
    with audit.actor_context(audit.Actor(None, "demo")):
        machine_ids = _plant()
        _users()
        products = _products_and_routings(machine_ids, rng)
        _work_orders(products, rng)


def plan(time_limit: int = 5) -> None:
    """Run the scheduler once and publish its plan, so the floor sees what to run next."""
    with audit.actor_context(audit.Actor(None, "demo")):
        schedule_id = scheduling.start_run(time_limit=time_limit, wait=True)
        with get_db().read_session() as s:
            ok = s.get(ScheduleVersion, schedule_id).status == ScheduleStatus.DRAFT
        if ok:
            scheduling.publish(schedule_id, None)


def _plant() -> dict[str, int]:
    with transaction() as s:
        calendars = {}
        for code, (name, shifts) in CALENDARS.items():
            cal = WorkCalendar(code=code, name=name, shifts=[CalendarShift(weekday=d, start_minute=a, end_minute=b) for d, a, b in shifts])
            s.add(cal)
            calendars[code] = cal
        centers = {}
        for code, name, cal, changeover in WORK_CENTERS:
            wc = WorkCenter(code=code, name=name, calendar=calendars[cal], default_changeover_minutes=changeover)
            s.add(wc)
            centers[code] = wc
        s.flush()
        machines = {}
        for code, name, wc, make, model, year, data, speed, cal in MACHINES:
            m = Machine(code=code, name=name, work_center=centers[wc], make=make, model=model, year_built=year,
                        has_data_connection=data, speed_factor=Decimal(str(speed)), calendar=calendars[cal] if cal else None,
                        status=MachineStatus.AVAILABLE)
            s.add(m)
            machines[code] = m
        s.flush()
        # The surface grinder is in planned maintenance until tomorrow noon; the paint booth broke down.
        tomorrow_noon = dt.datetime.combine(plant_today() + dt.timedelta(days=1), dt.time(12), tzinfo=plant_tz())
        s.add(MachineDowntime(machine_id=machines["G02"].id, starts_at=utcnow() - dt.timedelta(hours=3),
                              ends_at=tomorrow_noon, kind="maintenance", note="Spindle bearings 主轴轴承保养"))
        s.add(MachineDowntime(machine_id=machines["P01"].id, starts_at=utcnow() - dt.timedelta(hours=1),
                              ends_at=utcnow() + dt.timedelta(hours=5), kind="breakdown", note="Spray gun clogged 喷枪堵塞"))
        return {code: m.id for code, m in machines.items()}


def _users() -> None:
    with transaction() as s:
        for username, name, roles, emp, badge, pin in LOGINS:
            s.add(User(
                username=username, display_name=name, employee_no=emp,
                password_hash=hash_secret(DEMO_PASSWORD) if Role.WORKER not in roles else None,
                badge_digest=badge_digest(badge) if badge else None, pin_hash=hash_secret(pin) if pin else None,
                role_rows=[UserRole(role=r.value) for r in roles],
            ))


def _minutes(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def _products_and_routings(machine_ids: dict[str, int], rng: random.Random) -> list[int]:
    speed = {code: spd for code, _n, _w, _mk, _md, _y, _d, spd, _c in MACHINES}
    product_ids = []
    today = plant_today()
    with transaction() as s:
        families = {}
        for code, name in FAMILIES:
            families[code] = ProductFamily(code=code, name=name)
            s.add(families[code])
        s.flush()
        centers = {wc.code: wc.id for wc in s.scalars(select(WorkCenter))}
        for fam_code, names in PRODUCT_NAMES.items():
            for i, name in enumerate(names, start=1):
                product = Product(code=f"{fam_code[:3]}-{100 + i}", name=name, family=families[fam_code], drawing=f"DWG-{fam_code[:3]}-{100 + i}")
                s.add(product)
                s.flush()
                product_ids.append(product.id)
                factor = 0.7 + 0.15 * i  # bigger variants take longer
                routing = Routing(product_id=product.id, version_no=1, status=RoutingStatus.RELEASED,
                                  effective_from=today - dt.timedelta(days=90))
                s.add(routing)
                s.flush()
                steps = ASSEMBLY_ROUTE if fam_code == "ASSY" else [(*st, None) for st in ROUTES[fam_code]]
                for n, (op_name, wc, codes, setup, run, inspect, preds) in enumerate(steps, start=1):
                    op = RoutingOperation(
                        seq=n * 10, name=op_name, work_center_id=centers[wc], setup_minutes=_minutes(setup),
                        run_minutes=_minutes(run * factor), inspection_required=inspect,
                        follows_previous=preds is None, program_no=f"O{rng.randint(1000, 9999)}" if wc in ("TURN", "MILL") else None,
                        instructions="Check first piece against the drawing. 首件按图纸检验。" if n == 1 else None,
                    )
                    for code in codes or []:
                        op.machines.append(RoutingOperationMachine(
                            machine_id=machine_ids[code], setup_minutes=_minutes(setup / max(speed[code], 0.5)),
                            run_minutes=_minutes(run * factor / speed[code]),
                        ))
                    routing.operations.append(op)
                s.flush()
                by_seq = {op.seq: op for op in routing.operations}
                for n, step in enumerate(steps, start=1):
                    for p in step[6] or []:
                        routing.edges.append(RoutingEdge(routing_id=routing.id, predecessor_id=by_seq[p].id, successor_id=by_seq[n * 10].id))
        # Changeovers: same family is quick, a few pairs are known to be long.
        fam = {code: f.id for code, f in families.items()}
        for wc_code, wc_id in centers.items():
            for f in fam.values():
                s.add(SetupMatrixEntry(work_center_id=wc_id, from_family_id=f, to_family_id=f, minutes=10))
        s.add(SetupMatrixEntry(work_center_id=centers["PAINT"], from_family_id=fam["ASSY"], to_family_id=fam["FLANGE"], minutes=90))
        s.add(SetupMatrixEntry(work_center_id=centers["GRIND"], from_family_id=fam["SHAFT"], to_family_id=fam["GEAR"], minutes=70))
        s.add(SetupMatrixEntry(work_center_id=centers["MILL"], from_family_id=fam["HOUSING"], to_family_id=fam["PLATE"], minutes=25))
    return product_ids


def _work_orders(product_ids: list[int], rng: random.Random) -> None:
    today = plant_today()
    worker_ids = [u.id for u in session().scalars(select(User).join(UserRole).where(UserRole.role == Role.WORKER.value))]
    n_orders = 120
    for n in range(1, n_orders + 1):
        product_id = rng.choice(product_ids)
        # Mostly due in the next three weeks; the first ones were due earlier (done, or late).
        if n <= 30:
            due = today - dt.timedelta(days=rng.randint(1, 14))
        else:
            due = today + dt.timedelta(days=rng.randint(1, 21))
        quantity = rng.choice([5, 8, 10, 12, 20, 25, 40, 50, 60, 100])
        order_id = orders.create(orders.WorkOrderInput(
            product_id=product_id, quantity=quantity, due_date=due,
            release_date=min(due, today) - dt.timedelta(days=rng.randint(3, 10)),
            priority=rng.choices(list(Priority), weights=[2, 10, 3, 1])[0], customer=rng.choice(CUSTOMERS),
        ))
        if n > 110:
            continue  # still drafts
        version = session().get(WorkOrder, order_id).version
        orders.release(order_id, version)
        if n <= 18:
            _report(order_id, fraction_ops=1.0, worker_ids=worker_ids, rng=rng, finish=True)
        elif n <= 45:
            _report(order_id, fraction_ops=rng.choice([0.25, 0.5, 0.7]), worker_ids=worker_ids, rng=rng, finish=False)
    session().expire_all()


def _report(order_id: int, fraction_ops: float, worker_ids: list[int], rng: random.Random, finish: bool) -> None:
    """Production history: reports on the first operations (all of them for finished orders)."""
    tz = plant_tz()
    with transaction() as s:
        order = s.get(WorkOrder, order_id)
        ops = sorted(order.operations, key=lambda o: o.seq)
        n_done = len(ops) if finish else max(1, int(len(ops) * fraction_ops))
        good_in = order.quantity
        when = dt.datetime.combine(order.release_date or plant_today(), dt.time(8), tzinfo=tz)
        for i, op in enumerate(ops[:n_done]):
            last_partial = not finish and i == n_done - 1
            scrap = rng.choice([0, 0, 0, 1, 2]) if good_in > 5 else 0
            good = good_in - scrap
            if last_partial:
                good = max(1, good // 2)
            machines = [m.machine_id for m in op.machines] or [
                m.id for m in s.scalars(select(Machine).where(Machine.work_center_id == op.work_center_id))
            ]
            machine_id = rng.choice(machines)
            worker_id = rng.choice(worker_ids)
            op.machine_id = machine_id
            op.started_at = when.astimezone(dt.UTC)
            # The time the worker booked: the setup, then the run of the pieces reported.
            for phase, minutes in (("setup", float(op.setup_minutes)), ("run", float(op.run_minutes) * (good + scrap))):
                if minutes <= 0:
                    continue
                start, when = when, when + dt.timedelta(minutes=minutes)
                began, ended = start.astimezone(dt.UTC), min(when.astimezone(dt.UTC), utcnow())
                if began < ended:
                    s.add(LabourRecord(user_id=worker_id, operation_id=op.id, machine_id=machine_id, phase=phase,
                                       started_at=began, ended_at=ended,
                                       minutes=Decimal((ended - began).total_seconds() / 60).quantize(Decimal("0.01"))))
            s.add(ProductionReport(operation_id=op.id, work_order_id=order.id, machine_id=machine_id,
                                   user_id=worker_id, good_qty=good, scrap_qty=scrap, source="terminal",
                                   reported_at=min(when.astimezone(dt.UTC), utcnow())))
            op.qty_good, op.qty_scrap = good, scrap
            if last_partial:
                op.status = OperationStatus.PAUSED
            else:
                op.status = OperationStatus.DONE
                op.finished_at = min(when.astimezone(dt.UTC), utcnow())
            good_in = good
        if finish:
            order.status = WorkOrderStatus.CLOSED if rng.random() < 0.5 else WorkOrderStatus.COMPLETED
            order.completed_at = min(when.astimezone(dt.UTC), utcnow())
        else:
            order.status = WorkOrderStatus.IN_PROGRESS
