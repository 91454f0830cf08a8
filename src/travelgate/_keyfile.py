"""Secret key files that several replicas may create at the same moment: one wins, all use it.

A new key is written whole to a private temporary file (O_CREAT|O_EXCL, 0600) and then
linked to its name; linking fails when the name exists, so of replicas starting together
exactly one key lands, and nobody ever reads a half-written file: the name appears only
once its content is complete. The losers read the winner's key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from travelgate.errors import ConfigError


def read_or_create(path: Path, make: Callable[[], str], *, what: str) -> str:
    """The stripped text of the key file at `path`, written from `make()` if it is absent."""
    text = _read(path, what)
    if text is not None:
        return text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: {exc.strerror}") from None
    try:
        created = make().strip()
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(created + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:  # another replica won the race: its key is the key
            theirs = _read(path, what)
            if theirs is None:
                raise ConfigError(f"{what} {path} vanished while it was created") from None
            return theirs
        except OSError as exc:
            raise ConfigError(f"{what} {path}: {exc.strerror}") from None
        return created
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path, what: str) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} is not readable: {exc}") from None
