"""The archive of daily output sheets: one PDF per plant day and language, generated after the
day's last shift. The row is also the claim that keeps several processes from generating the same
sheet twice (a unique day and language; a claim whose process died is taken over)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from mes.core.db import Base, utcnow


class ArchivedSheet(Base):
    __tablename__ = "archived_sheet"
    __table_args__ = (UniqueConstraint("day", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(index=True)
    locale: Mapped[str] = mapped_column(String(8))
    # running (claimed by ``claimed_by`` at ``claimed_at``), done or failed
    status: Mapped[str] = mapped_column(String(8), default="running")
    claimed_by: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    generated_at: Mapped[dt.datetime | None]
    size: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # Loaded only when downloaded: the list of sheets never reads the files.
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
