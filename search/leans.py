"""The order leans are listed in, wherever they are listed: a story's counts, its lean bar,
the timeline's series."""

from __future__ import annotations

# Left to right, as the bar on the page reads; labels an outlets file adds beyond these
# follow, by name.
LEAN_ORDER = ("left", "lean left", "center", "lean right", "right")
# The labels a story's lean bar always shows, even at 0: that a side did not carry a story
# is the point of the bar.
BAR_LEANS = ("left", "center", "right")


def lean_key(lean: str) -> tuple[int, str]:
    """Sort key putting leans in ``LEAN_ORDER``, other labels after them by name."""
    place = LEAN_ORDER.index(lean) if lean in LEAN_ORDER else len(LEAN_ORDER)
    return place, lean
