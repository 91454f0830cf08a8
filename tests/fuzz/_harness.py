"""Shared machinery of the fuzz targets: profiles, the per-input time bound, seed corpora.

A target is a function of one input that may raise only the documented error types. Each
input runs under a hard wall-clock bound (SIGALRM) besides hypothesis's own deadline, so a
parser that loops forever fails with the input that made it loop instead of stalling the
suite. Seed files under `tests/fuzz/corpus/<target>/` are replayed as they are and mutated.

Two hypothesis profiles, chosen by TRAVELGATE_FUZZ_PROFILE and applied to the fuzz targets
only (through `FUZZ`), so other property tests keep their own settings:

* "ci" (the default, part of `make test`): 100 inputs per target, the same ones on every
  run (derandomized), plus the seed corpus;
* "fuzz" (`make fuzz`): 4,000 inputs per target; failures are kept in tests/fuzz/.examples.

TRAVELGATE_FUZZ_EXAMPLES overrides the number of inputs of either.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
EXAMPLES = HERE / ".examples"  # what `make fuzz` found, replayed by the next `make fuzz`

PROFILE_ENV = "TRAVELGATE_FUZZ_PROFILE"
# Hard bound for one input; hypothesis's deadline is the softer, reproducible one.
INPUT_SECONDS = float(os.environ.get("TRAVELGATE_FUZZ_INPUT_SECONDS", "10"))

_COMMON: dict[str, Any] = {
    "deadline": 2000,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    "print_blob": True,
}
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("TRAVELGATE_FUZZ_EXAMPLES", "100")),
    # The same inputs on every run, so that `make test` passes or fails for the code, not
    # for the draw: finding new inputs is what `make fuzz` is for, and what it finds is
    # kept as a seed under corpus/, which every run replays.
    database=None,
    derandomize=True,
    **_COMMON,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("TRAVELGATE_FUZZ_EXAMPLES", "4000")),
    database=DirectoryBasedExampleDatabase(EXAMPLES),
    **_COMMON,
)
PROFILE = os.environ.get(PROFILE_ENV, "ci")
FUZZ = settings(settings.get_profile(PROFILE))


class InputTimeoutError(AssertionError):
    """One input ran past INPUT_SECONDS: the parser hangs or is super-linear on it."""


@contextmanager
def time_bound(seconds: float = INPUT_SECONDS) -> Iterator[None]:
    """Fail the current input once it has run `seconds` of wall-clock time."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise InputTimeoutError(f"one input took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def only(*allowed: type[BaseException]) -> Iterator[None]:
    """The input may be refused with one of `allowed`; anything else fails the target."""
    with time_bound(), suppress(*allowed):
        yield


def seeds(target: str) -> list[Path]:
    """The committed seed inputs of one target, sorted for stable test ids."""
    folder = CORPUS / target
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def seed_ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# -- byte mutation (a small AFL-style mutator over the seed corpus) -------------------------

_INTERESTING = (
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # the longest varint
    b"\x0a\xff\xff\xff\xff\x0f",  # a length-delimited field claiming 4 GiB
    b"-----BEGIN ",
    b"-----END ",
    b'"',
    b"\\ud800",
    b"{",
    b"[",
    b"9" * 5000,
    "\u00e9".encode(),
)


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes], *, max_steps: int = 6) -> bytes:
    """A seed changed by a few random edits: flips, inserts, deletions, splices."""
    data = bytearray(draw(st.sampled_from(corpus))) if corpus else bytearray()
    for _ in range(draw(st.integers(1, max_steps))):
        size = len(data)
        where = draw(st.integers(0, size))
        action = draw(st.integers(0, 6))
        if action == 0 and size:
            index = min(where, size - 1)
            data[index] ^= 1 << draw(st.integers(0, 7))
        elif action == 1:
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif action == 2 and size:
            end = min(size, where + draw(st.integers(1, 64)))
            del data[where:end]
        elif action == 3 and size:
            start = draw(st.integers(0, size - 1))
            end = min(size, start + draw(st.integers(1, 64)))
            data[where:where] = data[start:end] * draw(st.integers(1, 4))
        elif action == 4:
            data[where:where] = draw(st.sampled_from(_INTERESTING))
        elif action == 5 and corpus:
            other = draw(st.sampled_from(corpus))
            cut = draw(st.integers(0, len(other)))
            data = data[:where] + bytearray(other[cut:])
        elif action == 6 and size:
            index = min(where, size - 1)
            data[index] = draw(st.integers(0, 255))
    return bytes(data)


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """Any JSON value, including lone surrogates and integers beyond 4,300 digits."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=40)
        | st.sampled_from(["", " ", "\ud800", "0", "1", "١٢٣", "1E+999999999", "-1"])
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
        max_leaves=max_leaves,
    )


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*path, index)))
    return found


@st.composite
def json_mutated(draw: st.DrawFn, corpus: list[Any], keys: list[str], *, max_steps: int = 4) -> Any:
    """A parsed JSON seed with a few edits at random places: a value replaced, a key
    dropped or renamed to another known key, a list item repeated."""
    document = json.loads(json.dumps(draw(st.sampled_from(corpus))))
    for _ in range(draw(st.integers(1, max_steps))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            continue
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = draw(st.integers(0, 3))
        if action == 0:
            parent[last] = draw(json_values(max_leaves=6))
        elif action == 1:
            del parent[last]
        elif action == 2 and isinstance(parent, dict):
            parent[draw(st.sampled_from(keys))] = parent.pop(last)
        elif action == 3 and isinstance(parent, list):
            parent.insert(last, json.loads(json.dumps(parent[last])))
    return document
