"""Imports every table so that the mappers are configured and Alembic sees the whole schema."""
from mes.core.db import Base  # noqa: F401
from mes.core.models import *  # noqa: F401,F403
from mes.machines.models import *  # noqa: F401,F403
from mes.orders.models import *  # noqa: F401,F403
from mes.routing.models import *  # noqa: F401,F403
from mes.scheduling.models import *  # noqa: F401,F403

from mes.shopfloor.models import *  # noqa: F401,F403
from mes.machinedata.models import *  # noqa: F401,F403
from mes.quality.models import *  # noqa: F401,F403
from mes.reports.models import *  # noqa: F401,F403

metadata = Base.metadata
