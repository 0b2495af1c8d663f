"""A plant whose P-1 routing has an inspection plan on its first operation (turning):
diameter 20 ± 0.1 mm on the first piece (gated), length every 5 pieces, a visual check on the
last piece."""
from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def qplant(plant):  # type: ignore[no-untyped-def]
    from mes.core.db import session
    from mes.operations import services as operations
    from mes.operations.inspection import CharacteristicInput
    from mes.operations.models import CharacteristicKind, Frequency
    from mes.routing import services as routing
    from mes.routing.models import Routing

    routing_id = routing.create_version(plant.p1, copy_from_id=plant.routing_id)
    session().rollback()
    r = session().get(Routing, routing_id)
    turn = r.operations[0]
    data = operations.input_from(turn)
    data.inspection_required = True
    routing.update_operation(routing_id, turn.id, None, data)
    routing.add_characteristic(routing_id, turn.id, None, CharacteristicInput(
        name="Diameter", nominal=Decimal(20), lower_limit=Decimal("19.9"), upper_limit=Decimal("20.1"), unit="mm",
        gauge="Micrometer 0-25", frequency=Frequency.FIRST))
    routing.add_characteristic(routing_id, turn.id, None, CharacteristicInput(
        name="Length", nominal=Decimal(50), lower_limit=Decimal("49.8"), upper_limit=Decimal("50.2"), unit="mm",
        frequency=Frequency.EVERY_N, every_n=5))
    routing.add_characteristic(routing_id, turn.id, None, CharacteristicInput(
        name="Surface", kind=CharacteristicKind.ATTRIBUTE, defects="Scratch\nBurr", frequency=Frequency.LAST))
    routing.release(routing_id, None)
    session().rollback()
    plant.routing_id = routing_id
    return plant
