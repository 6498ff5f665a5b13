"""What a follow-up to a closed case does: the company file's `follow_up_policy`.

A customer who quotes the reference of a case that is already closed is either still talking
about it ("it broke again") or about something new under an old number. The company decides,
in its company file, and intake follows: `reopen` the case (its flow runs again), `link` the
contact to the closed case (visible on it, no flow), or `new_case` (a new case of the same
reason, linked to the old one). Past `reopen_within` after the close every policy opens a new
linked case: a case closed months ago is history, not work to reopen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

POLICIES = ("reopen", "link", "new_case")
_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


def parse_duration(text: str) -> timedelta:
    """The company file's durations (PnDTnHnM, as its schema allows)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise ValueError(f"{text!r} is not a duration like P14D or PT12H")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _iso(delta: timedelta) -> str:
    days, rest = delta.days, delta.seconds
    hours, minutes = rest // 3600, rest % 3600 // 60
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return f"P{days}D" + (f"T{time}" if time else "") if days or not time else f"PT{time}"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The decision for one follow-up, with the reason written to the event log."""

    action: str  # reopen | link | new_case
    reason: str


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    policy: str = "reopen"
    reopen_within: timedelta = timedelta(days=14)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"follow_up_policy must be one of {', '.join(POLICIES)}")

    def decide(self, *, closed_at: datetime | None, now: datetime) -> FollowUp:
        """What to do with a follow-up to a case closed at `closed_at`."""
        window = _iso(self.reopen_within)
        if self.policy == "new_case":
            return FollowUp(
                "new_case", "policy new_case: a follow-up to a closed case opens a new one"
            )
        if closed_at is not None and now - closed_at > self.reopen_within:
            ago = now - closed_at
            return FollowUp(
                "new_case",
                f"closed {ago.days} days ago, over reopen_within {window}: a new linked case",
            )
        return FollowUp(self.policy, f"policy {self.policy}: closed within reopen_within {window}")

    @classmethod
    def from_company(cls, company: Mapping[str, Any]) -> FollowUpPolicy:
        """From a company document checked by `experience.company.load_company`."""
        within = company.get("reopen_within")
        return cls(
            str(company.get("follow_up_policy") or "reopen"),
            parse_duration(within) if within else timedelta(days=14),
        )

    @classmethod
    def from_file(cls, path: str | Path | None) -> FollowUpPolicy:
        """The policy of a company file, or the default one when there is no file."""
        if not path:
            return cls()
        from flowdesk.experience.company import load_company

        return cls.from_company(load_company(path))
