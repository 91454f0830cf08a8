"""Running cases against a peer: timing, and turning every failure of the peer (or of a
case) into a finding, so a run always ends with a complete report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from travelgate.conformance._catalogue import CASES
from travelgate.conformance._model import Case, CaseResult, Finding, Level, Report, Status
from travelgate.conformance._probe import Probe, Settings, Skip
from travelgate.trisa import Credentials

Progress = Callable[[CaseResult], None]


def case_budget(timeout: float) -> float:
    """The most one case may take: a few calls, each bounded by `timeout`, plus slack."""
    return timeout * 4 + 5.0


async def run_case(probe: Probe, case: Case) -> CaseResult:
    probe.case = case.name
    started = time.perf_counter()
    try:
        async with asyncio.timeout(case_budget(probe.timeout)):
            finding = await case.run(probe)
    except Skip as skip:
        finding = Finding(Status.SKIP, "", skip.reason)
    except TimeoutError:
        finding = Finding(
            Status.FAIL, f"no conclusion within {case_budget(probe.timeout):g} s", "the peer hangs"
        )
    except Exception as exc:  # a peer that breaks a case is a finding, never a crash
        finding = Finding(
            Status.FAIL,
            f"the case could not complete: {type(exc).__name__}: {exc}",
            "the peer's answers could not be read as TRISA messages",
        )
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    detail = finding.detail
    if finding.status is Status.FAIL and case.reference:
        detail = f"{detail}; " if detail else ""
        detail += f"the reference library: {case.reference}"
    return CaseResult(
        case.name, finding.status, case.expectation, finding.actual, detail, elapsed, case.level
    )


async def run_suite(
    settings: Settings,
    credentials: Credentials,
    *,
    cases: Iterable[Case] = CASES,
    progress: Progress | None = None,
    level: Level = Level.REQUIRED,
) -> Report:
    """Run `cases` in order against the peer of `settings`, as the node of `credentials`."""
    probe = Probe(settings, credentials)
    results = []
    try:
        for case in cases:
            result = await run_case(probe, case)
            results.append(result)
            if progress is not None:
                progress(result)
    finally:
        await probe.close()
    return Report(settings.target, settings.peer_name, tuple(results), level)
