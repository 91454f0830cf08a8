"""Vocabulary of the conformance suite: cases, their findings and the run's report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from travelgate.conformance._probe import Probe


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    SKIP = "SKIP"


class Level(StrEnum):
    """How binding a case is: what the TRISA network requires, or a stricter documented rule.

    `required` is what the protocol demands as the reference library (and so every
    TRISA node built on it) behaves; `recommended` is a rule of the TRISA v1beta1
    documentation that the reference does not follow, which a careful node should.
    """

    REQUIRED = "required"
    RECOMMENDED = "recommended"

    def gates(self, other: Level) -> bool:
        """True when a failure of a case at level `other` fails a run gated at this level."""
        return other is Level.REQUIRED or self is Level.RECOMMENDED


LEVELS = tuple(level.value for level in Level)


@dataclass(frozen=True)
class Finding:
    """What a case function concluded; the runner adds name, expectation and timing."""

    status: Status
    actual: str
    detail: str = ""


def passed(actual: str, detail: str = "") -> Finding:
    return Finding(Status.PASS, actual, detail)


def failed(actual: str, detail: str = "") -> Finding:
    return Finding(Status.FAIL, actual, detail)


CaseFunction = Callable[["Probe"], Awaitable[Finding]]


# The TRISA v1beta1 topic of each section number a case cites in `spec`.
_TOPICS = {
    "3.3": "Error codes",
    "4.3": "AES-256-GCM",
    "4.4": "HMAC-SHA256",
    "4.5": "RSA-OAEP key sealing",
    "4.6": "public key signature",
    "4.7": "sealed flag",
    "4.8": "algorithm names",
    "4.9": "timestamps",
    "4.10": "envelope ids",
    "4.11": "sealing",
    "4.12": "replies",
    "5.1": "mTLS",
    "5.4": "KeyExchange",
    "5.6": "TRISAHealth",
    "5.7": "ConfirmAddress",
    "6.1": "receive checks",
    "6.2": "error envelopes",
    "6.3": "payload rules",
    "6.4": "errors as envelopes, not gRPC statuses",
    "7.1": "TransferState",
    "7.2": "synchronous transfer",
    "7.3": "asynchronous transfer",
    "7.4": "matching replies",
    "7.6": "TransferStream",
    "7.7": "duplicate envelopes",
    "11.1": "reference test vectors",
}


def topics(spec: str) -> str:
    """`spec` ("6.1 step 16, 11.1") as TRISA v1beta1 topics ("receive checks, ...")."""
    named: list[str] = []
    for part in spec.split(","):
        topic = _TOPICS.get(part.strip().split(" ", 1)[0])
        if topic is not None and topic not in named:
            named.append(topic)
    return ", ".join(named)


@dataclass(frozen=True)
class Case:
    """One behaviour of the TRISA v1beta1 protocol, checked against the peer."""

    name: str
    checks: str
    expected: str
    spec: str
    run: CaseFunction
    level: Level = Level.REQUIRED
    # For a recommended case: what the reference library does instead (the evidence).
    reference: str = ""

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def expectation(self) -> str:
        """The expected result as reported: what, and which part of TRISA says so."""
        return f"{self.expected} (TRISA v1beta1: {topics(self.spec)})"


@dataclass(frozen=True)
class CaseResult:
    name: str
    status: Status
    expected: str
    actual: str
    detail: str
    duration_ms: float
    level: Level = Level.REQUIRED

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "level": self.level.value,
            "status": self.status.value,
            "expected": self.expected,
            "actual": self.actual,
            "detail": self.detail,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class Report:
    """The outcome of one run against one peer."""

    target: str
    peer: str
    results: tuple[CaseResult, ...]
    # The level whose failures make the run fail (`--level`).
    level: Level = Level.REQUIRED

    def count(self, status: Status, level: Level | None = None) -> int:
        return sum(
            1
            for result in self.results
            if result.status is status and (level is None or result.level is level)
        )

    def level_summary(self, level: Level) -> dict[str, int]:
        return {
            "passed": self.count(Status.PASS, level),
            "failed": self.count(Status.FAIL, level),
            "skipped": self.count(Status.SKIP, level),
        }

    @property
    def gating_failures(self) -> int:
        """Failures of the cases the run's level holds the peer to."""
        return sum(
            1
            for result in self.results
            if result.status is Status.FAIL and self.level.gates(result.level)
        )

    @property
    def passed(self) -> int:
        return self.count(Status.PASS)

    @property
    def failed(self) -> int:
        return self.count(Status.FAIL)

    @property
    def skipped(self) -> int:
        return self.count(Status.SKIP)

    @property
    def ok(self) -> bool:
        """True when every case of the run's level that ran passed (skips do not count)."""
        return self.gating_failures == 0

    @property
    def duration_ms(self) -> float:
        return round(sum(result.duration_ms for result in self.results), 1)

    def names(self, status: Status) -> list[str]:
        return [result.name for result in self.results if result.status is status]

    def result(self, name: str) -> CaseResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "peer": self.peer,
            "level": self.level.value,
            "ok": self.ok,
            "summary": {"passed": self.passed, "failed": self.failed, "skipped": self.skipped},
            "levels": {level.value: self.level_summary(level) for level in Level},
            "cases": [result.to_dict() for result in self.results],
        }
