"""The table of spam-complaint figures (issue 8): one row per domain, day and source.

A day of a source is stored once (unique on domain, day and source): importing the same export again, or a
newer one that covers the same days, updates the rows. Nothing is ever pruned: the providers' own tools
keep four months (Postmaster Tools) or less, and the point of storing is the longer history.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Double, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mimawari.store.models import DOMAIN_LENGTH, Base, UtcDateTime


class SpamRateRow(Base):
    __tablename__ = "spam_rate_days"
    __table_args__ = (UniqueConstraint("domain", "day", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    day: Mapped[date] = mapped_column(Date)
    """The UTC day the figure is about."""
    source: Mapped[str] = mapped_column(String(32))
    """``google-postmaster``, ``microsoft-snds``, ``yahoo-arf``."""
    rate: Mapped[float | None] = mapped_column(Double)
    """Complaints per message, 0–1; NULL when the source gave no rate for the day."""
    complaints: Mapped[int | None] = mapped_column(BigInteger)
    volume: Mapped[int | None] = mapped_column(BigInteger)
    upper_bound: Mapped[bool] = mapped_column(Boolean)
    """The rate is only a band's upper end (SNDS ``< 0.1%``)."""
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
