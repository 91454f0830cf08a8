"""The seam between the node and its database: what every backend (`store.sqlite`,
`store.postgres`) offers the rest of travelgate.

A backend runs each unit of work, a plain synchronous function of a `Tx`, as one transaction
and hands the `Tx` its `Connection` (see `_connection`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol, TypeVar

from travelgate.audit._key import AuditKey
from travelgate.store._connection import Dialect
from travelgate.store._tx import Tx

T = TypeVar("T")

# Subjects whose change committed, or None when another process changed something (its
# subjects are not known here: every waiter looks again).
ChangeListener = Callable[[Collection[str] | None], None]

# A write whose version check failed runs again (`WriteConflictError`): each retry follows
# another process's commit to the same row; more than a few in a row means something keeps
# changing it, which the caller should hear about.
CONFLICT_RETRIES = 4


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against the migrations this code carries."""

    backend: Dialect
    where: str  # the file, or the URL without its password
    current: int
    latest: int

    @property
    def pending(self) -> list[int]:
        return list(range(self.current + 1, self.latest + 1))


class Store(Protocol):
    """A node's database. Units of work run off the event loop, each as one transaction.

    `on_enqueue` is called after a commit that added outbox rows (the outbox worker wakes
    up). Listeners given to `subscribe` hear of changes only after they committed: the
    subjects a unit of work named with `Tx.changed`, or None for a change made by another
    process on the same database.
    """

    dialect: Dialect
    audit_key: AuditKey
    on_enqueue: Callable[[], None] | None

    @property
    def where(self) -> str:
        """The file, or the URL without its password: what a person may be shown."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def read(self, work: Callable[[Tx], T]) -> T: ...

    async def write(self, work: Callable[[Tx], T]) -> T: ...

    def subscribe(self, listener: ChangeListener) -> None: ...

    async def migrate(self) -> list[int]:
        """Open the store if it is not (which brings its schema up to date); the numbers of
        the migrations that opening applied."""

    async def status(self) -> SchemaStatus:
        """Where the schema stands; reads the version only and changes nothing."""
