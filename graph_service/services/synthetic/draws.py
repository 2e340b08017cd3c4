"""Random draws built on ``Random.random()`` only, so they are stable across Python versions.

``random.Random``'s own ``choice``, ``gauss`` and ``sample`` may change between versions; these
do not, and every draw of the generator goes through them.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from graph_service.services.synthetic.calibration import GENERATOR_VERSION

__all__ = [
    "Uniform",
    "gumbel",
    "lognormal",
    "normal",
    "pick",
    "sample",
    "stream",
    "weighted_index",
]

#: A source of uniform numbers in [0, 1): a ``Random.random`` bound method.
Uniform = Callable[[], float]


def stream(seed: int, *parts: str) -> random.Random:
    """The random stream of ``parts`` (a county code, ``"city"`` and a city code) under ``seed``.

    Keyed by a BLAKE2b digest, not ``hash()``, so it does not depend on ``PYTHONHASHSEED``.
    """
    key = "\x1f".join(("dangjian-generator", GENERATOR_VERSION, str(seed), *parts))
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def normal(u: Uniform) -> float:
    """A standard normal draw (Box–Muller)."""
    return math.sqrt(-2.0 * math.log(u() or 1e-300)) * math.cos(math.tau * u())


def lognormal(u: Uniform, median: float, sigma: float) -> float:
    """A log-normal draw with this median and ``sigma`` of its logarithm."""
    return median * math.exp(sigma * normal(u))


def gumbel(u: Uniform) -> float:
    """A standard Gumbel draw (the noise of the latent preference)."""
    return -math.log(-math.log(u() or 1e-300) or 1e-300)


def pick(u: Uniform, seq: Sequence[Any]) -> Any:
    """One element of ``seq``, uniformly."""
    return seq[int(u() * len(seq))]


def weighted_index(u: Uniform, cumulative: Sequence[float]) -> int:
    """An index drawn with the weights whose running sums are ``cumulative``."""
    return bisect.bisect_right(cumulative, u() * cumulative[-1])


def sample(u: Uniform, seq: Sequence[Any], k: int) -> list[Any]:
    """``k`` distinct elements of ``seq`` (all of them when fewer), by partial shuffle."""
    pool = list(seq)
    k = min(k, len(pool))
    for i in range(k):
        j = i + int(u() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]
