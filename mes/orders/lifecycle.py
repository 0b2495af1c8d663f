"""The work order's state machine as one declared table: which action is allowed from which
statuses and where it leads. Services check it before they change anything; the order page
draws its buttons from it. Pure: no database, no request."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from mes.core.errors import InvalidTransition
from mes.orders.models import WorkOrderStatus as S


class Action(enum.StrEnum):
    EDIT = "edit"
    RELEASE = "release"
    START = "start"  # the first work reported (by the floor, not a button)
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"
    SPLIT = "split"
    CHANGE_OPERATIONS = "change_operations"


#: The target of an action that returns to the status the order had before its hold.
HELD_FROM = "held_from"


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[S]
    target: S | str | None  # None: the status stays; HELD_FROM: back to where the hold began
    label: object = None  # a button on the order page when set
    style: str = ""
    needs_reason: bool = False
    confirm: object = None


_OPEN = frozenset({S.DRAFT, S.RELEASED, S.IN_PROGRESS, S.ON_HOLD})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Action.EDIT, _OPEN, None),
    Transition(Action.RELEASE, frozenset({S.DRAFT}), S.RELEASED, _l("Release to the floor"), "primary"),
    Transition(Action.START, frozenset({S.RELEASED}), S.IN_PROGRESS),
    Transition(Action.HOLD, frozenset({S.RELEASED, S.IN_PROGRESS}), S.ON_HOLD, _l("Put on hold"), needs_reason=True),
    Transition(Action.RELEASE_HOLD, frozenset({S.ON_HOLD}), HELD_FROM, _l("Release hold"), "primary"),
    Transition(Action.COMPLETE, frozenset({S.RELEASED, S.IN_PROGRESS}), S.COMPLETED, _l("Mark completed")),
    Transition(Action.CLOSE, frozenset({S.COMPLETED}), S.CLOSED, _l("Close"), "primary"),
    Transition(Action.CANCEL, frozenset({S.DRAFT, S.RELEASED, S.ON_HOLD}), S.CANCELLED, _l("Cancel order"), "danger",
               needs_reason=True, confirm=_l("Cancel this work order?")),
    Transition(Action.SPLIT, _OPEN, None),
    Transition(Action.CHANGE_OPERATIONS, _OPEN, None),
)

_BY_ACTION = {t.action: t for t in TRANSITIONS}


def transition(action: str) -> Transition | None:
    try:
        return _BY_ACTION[Action(action)]
    except ValueError:
        return None


def allows(status: S, action: Action) -> bool:
    return status in _BY_ACTION[action].sources


def expect(status: S, action: Action) -> Transition:
    """The transition of ``action``; refused when the order's status does not allow it."""
    t = _BY_ACTION[action]
    if status not in t.sources:
        raise InvalidTransition(_l("Not possible while the order is %(status)s."), status=status.label)
    return t


def buttons(status: S) -> list[Transition]:
    """The status changes a planner can make from here, in the order the page shows them."""
    return [t for t in TRANSITIONS if t.label is not None and status in t.sources]


#: The actions that are status changes a planner asks for (the order page's buttons, the API's ``action``).
STATUS_ACTIONS: tuple[Action, ...] = tuple(t.action for t in TRANSITIONS if t.label is not None)
