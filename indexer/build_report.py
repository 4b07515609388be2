"""What a build or a removal did, as ``presslens index`` reports it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .models import Skipped


@dataclass
class BuildReport:
    """Counts and names a run gathers as it goes; the run that owns it fills it."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # Articles taken out with `presslens remove` and indexed again: still in their input.
    readded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    # Indexed, but cut short (a huge file or text): where, and what was cut.
    truncated: list[Skipped] = field(default_factory=list)
    # Articles filed under another outlet or lean because the outlets file changed.
    refiled: int = 0
    # Articles stored before languages were detected, given one from their text now.
    languages_detected: int = 0
    passages: int = 0
    embedded: int = 0
    cached: int = 0
    largest_story: int = 0
    grouping_seconds: float = 0.0
    vectors: str = ""  # what happened to the vector index: rebuilt, updated or unchanged
    generation: str = ""  # the live generation after the run
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the index command's JSON)."""
        data = dataclasses.asdict(self)
        data["skipped"] = [{"origin": s.origin, "reason": s.reason} for s in self.skipped]
        return data
