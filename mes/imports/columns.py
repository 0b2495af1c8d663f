"""What each kind of import file holds: its columns, their accepted headers and their meaning."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import LazyString, lazy_gettext as _l

from mes.core.auth import Permission


class Kind(enum.StrEnum):
    # In the order a new plant imports them: the plant, then products and routings, then orders.
    CALENDARS = "calendars"
    WORK_CENTERS = "work-centers"
    MACHINES = "machines"
    FAMILIES = "families"
    PRODUCTS = "products"
    ROUTINGS = "routings"
    WORK_ORDERS = "work-orders"
    USERS = "users"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])

    @property
    def permission(self) -> Permission:
        """What a user needs to import this kind (a planner may edit orders but not routings)."""
        if self == Kind.USERS:
            return Permission.ADMIN
        if self in PLANT_KINDS:
            return Permission.SCHEDULE
        return Permission.EDIT_ROUTINGS if self in (Kind.ROUTINGS, Kind.FAMILIES, Kind.PRODUCTS) else Permission.EDIT_ORDERS


#: Master data of the plant itself: matched by code, so a file both creates and updates.
PLANT_KINDS = (Kind.WORK_CENTERS, Kind.CALENDARS, Kind.MACHINES)
MASTER_KINDS = (*PLANT_KINDS, Kind.FAMILIES, Kind.PRODUCTS, Kind.USERS)

KIND_LABELS = {Kind.ROUTINGS: _l("Routings"), Kind.WORK_ORDERS: _l("Work orders"), Kind.WORK_CENTERS: _l("Work centers"),
               Kind.CALENDARS: _l("Shift calendars"), Kind.MACHINES: _l("Machines"), Kind.FAMILIES: _l("Product families"),
               Kind.PRODUCTS: _l("Products"), Kind.USERS: _l("Users")}


@dataclass(frozen=True)
class Column:
    key: str
    required: bool
    aliases: tuple[str, ...]  # the first one is the Chinese header of the template
    help: LazyString

    @property
    def chinese(self) -> str:
        return self.aliases[0]


PRODUCT_ALIASES = ("产品编码", "产品", "产品代码", "物料编码", "零件号", "product_code")

CALENDAR_ALIASES = ("班次日历", "日历", "日历编码", "calendar_code")

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    Kind.WORK_CENTERS: (
        Column("code", True, ("工作中心编码", "工作中心", "编码", "work_center"), _l("Work center code.")),
        Column("name", True, ("名称", "工作中心名称"), _l("Name.")),
        Column("calendar", False, CALENDAR_ALIASES, _l("Shift calendar code; empty: always available.")),
        Column("changeover_min", False, ("默认换型时间", "换型时间", "default_changeover_minutes"),
               _l("Changeover minutes when the product family changes and the setup matrix has no entry.")),
    ),
    Kind.CALENDARS: (
        Column("calendar", True, CALENDAR_ALIASES, _l("Shift calendar code; one row per weekday or special day.")),
        Column("name", False, ("名称", "日历名称"), _l("Name of the calendar (once is enough).")),
        Column("weekday", False, ("星期", "weekday_no"), _l("Weekday 1-7 (1 = Monday), or Mon … Sun, 周一 … 周日.")),
        Column("shifts", False, ("班次", "工作时间", "working_hours"),
               _l("Working hours of that weekday or extra working day: 08:00-12:00, 13:00-17:00; a night shift 22:00-06:00+1.")),
        Column("date", False, ("日期", "day"), _l("A special day (YYYY-MM-DD) instead of a weekday.")),
        Column("working", False, ("上班", "是否上班", "extra_working_day"),
               _l("For a special day: yes = extra working day (make-up day), no = holiday.")),
        Column("note", False, ("备注", "说明"), _l("Note, e.g. the holiday's name.")),
    ),
    Kind.MACHINES: (
        Column("code", True, ("设备编码", "设备", "机台号", "machine"), _l("Machine code.")),
        Column("name", True, ("名称", "设备名称"), _l("Name.")),
        Column("work_center", True, ("工作中心", "工作中心编码", "workcenter"), _l("Work center code.")),
        Column("make", False, ("品牌", "厂家", "制造商"), _l("Make.")),
        Column("model", False, ("型号",), _l("Model.")),
        Column("year", False, ("出厂年份", "年份", "year_built"), _l("Year built.")),
        Column("data_connection", False, ("数据连接", "联网", "mqtt"), _l("Sends machine data over MQTT: yes or no.")),
        Column("speed_factor", False, ("速度系数", "speed"), _l("1 = the routing's standard times; above 1 faster.")),
        Column("calendar", False, CALENDAR_ALIASES, _l("Shift calendar code; empty: the work center's.")),
        Column("status", False, ("状态",), _l("available, down or maintenance (可用, 故障, 保养).")),
    ),
    Kind.FAMILIES: (
        Column("code", True, ("产品族编码", "产品族", "编码", "family"), _l("Product family code.")),
        Column("name", True, ("名称", "产品族名称"), _l("Name.")),
    ),
    Kind.PRODUCTS: (
        Column("code", True, PRODUCT_ALIASES, _l("Product code.")),
        Column("name", True, ("产品名称", "品名", "名称", "product_name"), _l("Name.")),
        Column("family", True, ("产品族", "产品系列", "family_code"), _l("Product family code.")),
        Column("drawing", False, ("图号",), _l("Drawing number.")),
    ),
    Kind.ROUTINGS: (
        Column("product", True, PRODUCT_ALIASES, _l("Product code.")),
        Column("product_name", False, ("产品名称", "品名"), _l("Name of a new product; only needed to create it.")),
        Column("family", False, ("产品族", "产品系列", "family_code"), _l("Product family code of a new product.")),
        Column("seq", True, ("工序号", "序号", "sequence"), _l("Operation number, unique per product (10, 20, 30 …).")),
        Column("operation", True, ("工序", "工序名称", "operation_name"), _l("Name of the operation.")),
        Column("work_center", True, ("工作中心", "工作中心编码", "workcenter"), _l("Work center code.")),
        Column("machines", False, ("设备", "机台", "机床", "machine"),
               _l("Eligible machines as code:setup minutes:run minutes per piece, separated by semicolons "
                  "(L02:15:2.5; L03:10:2). Empty: any machine of the work center with the row's times.")),
        Column("setup_min", False, ("准备时间", "调机时间", "setup", "setup_minutes"), _l("Setup minutes.")),
        Column("run_min", False, ("单件时间", "加工时间", "run", "run_minutes"), _l("Run minutes per piece.")),
        Column("transfer_batch", False, ("转序批量", "传递批量"), _l("Pieces passed on to the next operation at a time.")),
        Column("inspection", False, ("检验", "是否检验", "inspection_required"), _l("Inspection required: yes or no.")),
        Column("predecessors", False, ("前序", "前道工序", "紧前工序"),
               _l("Operation numbers this one waits for (10,20). Empty: the previous operation; 0: none.")),
        Column("drawing", False, ("图号",), _l("Drawing number.")),
        Column("program", False, ("程序号", "程序", "program_no"), _l("NC program number.")),
        Column("instructions", False, ("作业指导", "工艺说明", "作业说明", "说明"), _l("Work instructions.")),
    ),
    Kind.WORK_ORDERS: (
        Column("number", False, ("工单号", "工单编号", "work_order", "order_number"), _l("Work order number; generated when empty.")),
        Column("product", True, PRODUCT_ALIASES, _l("Product code.")),
        Column("quantity", True, ("数量", "工单数量", "计划数量", "qty"), _l("Pieces to make.")),
        Column("due_date", True, ("交期", "交货日期", "到期日", "due"), _l("Due date (YYYY-MM-DD).")),
        Column("release_date", False, ("下达日期", "计划下达日期", "开工日期"), _l("Earliest start (YYYY-MM-DD).")),
        Column("priority", False, ("优先级",), _l("low, normal, high or urgent (低, 普通, 高, 紧急).")),
        Column("customer", False, ("客户", "客户名称"), _l("Customer.")),
        Column("note", False, ("备注", "notes"), _l("Note.")),
    ),
    Kind.USERS: (
        Column("username", True, ("用户名", "账号", "login"), _l("Username: letters, digits and . _ - @.")),
        Column("display_name", True, ("姓名", "名称", "name"), _l("Name.")),
        Column("roles", True, ("角色", "role"),
               _l("Roles, separated by commas: worker, planner, quality, owner, admin (操作工, 计划员, 质检, 老板, 管理员).")),
        Column("employee_no", False, ("工号", "员工编号", "employee_number"), _l("Employee number (to log in with a PIN).")),
        Column("badge", False, ("工卡", "卡号", "badge_code"), _l("Badge code; empty keeps the user's badge.")),
        Column("pin", False, ("PIN码", "密码PIN"), _l("PIN of 4 to 8 digits; empty keeps the user's PIN.")),
        Column("language", False, ("语言", "locale"), _l("en or zh_CN; empty: the plant's language.")),
        Column("active", False, ("启用", "是否启用"), _l("Active: yes or no; empty: yes.")),
    ),
}
