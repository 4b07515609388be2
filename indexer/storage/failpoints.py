"""Named points where a build can be made to die, so tests can kill a real process there.

Setting ``PRESSLENS_FAILPOINT`` to one of ``FAILPOINTS`` makes ``presslens index`` send
itself SIGKILL when it reaches that point: no clean-up, no ``finally``, exactly as if the
machine had lost power there. Unset, each point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

FAILPOINTS = (
    "embedding",    # after the first group of new vectors is in the embedding cache
    "faiss-write",  # the new vector index is half written (its temporary file exists)
    "merge",        # smaller segments are about to be merged into a new one
    "reclean",      # a stored article cleaned again (a line's status moved) is being written
    "switch",       # the new generation is verified, the pointer to it not yet replaced
    "switched",     # the pointer is replaced; old generations not yet cleaned up
)


def reached(name: str) -> None:
    if os.environ.get("PRESSLENS_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
