"""How far a long computation has come, for whoever waits on it (a job's ``progress``).

Analyses report the share of their work done with :func:`report`; the service that runs
them (``graph_service.services.work``) sets, for the duration of one computation, where the
reports go. Without a listener a report costs a context-variable lookup, so pure functions
call it freely. Reports may come from a worker thread: the listener must be thread-safe
(storing a float is).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["LISTENER", "report"]

#: Where the current computation's reports go (``None``: nobody listens).
LISTENER: ContextVar[Callable[[float], None] | None] = ContextVar("progress", default=None)


def report(done: float, total: float = 1.0) -> None:
    """``done`` of ``total`` units of the current computation are done."""
    listener = LISTENER.get()
    if listener is not None and total > 0:
        listener(min(1.0, max(0.0, done / total)))
