"""Rendering a report: progress lines, plain text, JSON and JUnit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from travelgate.conformance._model import CaseResult, Level, Report, Status

FORMATS = ("text", "json", "junit")
_NAME_WIDTH = 34
_LEVEL_WIDTH = max(len(level.value) for level in Level)
_INDENT = " " * 6


def progress_line(result: CaseResult, *, verbose: bool = True) -> str:
    """How one finished case is announced; with `verbose`, a failure spells out why."""
    head = (
        f"{result.status.value:<4}  {result.name:<{_NAME_WIDTH}} "
        f"{result.level.value:<{_LEVEL_WIDTH}} {result.duration_ms:>8.1f} ms"
    )
    if result.status is Status.SKIP:
        return f"{head}  {result.detail}"
    if result.status is Status.PASS:
        return head
    if not verbose:
        return f"{head}  {result.actual}"
    lines = [head, f"{_INDENT}expected: {result.expected}", f"{_INDENT}actual:   {result.actual}"]
    if result.detail:
        lines.append(f"{_INDENT}detail:   {result.detail}")
    return "\n".join(lines)


def header(target: str, peer: str) -> str:
    return f"travelgate conformance: {peer} at {target} (TRISA v1beta1)"


def summary_line(report: Report) -> str:
    """Totals, the verdict at the run's level, and the totals of each level."""
    verdict = "conformant" if report.ok else "NOT conformant"
    per_level = []
    for level in Level:
        counts = report.level_summary(level)
        if any(counts.values()):
            per_level.append(
                f"{level.value}: {counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['skipped']} skipped"
            )
    levels = f" ({'; '.join(per_level)})" if per_level else ""
    return (
        f"{len(report.results)} cases: {report.passed} passed, {report.failed} failed, "
        f"{report.skipped} skipped: {verdict} at level {report.level.value}{levels}"
    )


def render_text(report: Report) -> str:
    lines = [header(report.target, report.peer)]
    lines += [progress_line(result) for result in report.results]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_junit(report: Report) -> str:
    """One <testsuite> with a <testcase> per case; <failure> and <skipped> as CI tools read them."""
    suite = ET.Element(
        "testsuite",
        {
            "name": f"travelgate conformance {report.peer}",
            "tests": str(len(report.results)),
            "failures": str(report.failed),
            "errors": "0",
            "skipped": str(report.skipped),
            "time": f"{report.duration_ms / 1000:.3f}",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", report.target),
        ("peer", report.peer),
        ("level", report.level.value),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for result in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"conformance.{result.name.split('.', 1)[0]}",
                "name": result.name,
                "time": f"{result.duration_ms / 1000:.3f}",
            },
        )
        case_properties = ET.SubElement(case, "properties")
        ET.SubElement(case_properties, "property", {"name": "level", "value": result.level.value})
        if result.status is Status.FAIL:
            message = f"{result.level.value}: expected {result.expected}; got {result.actual}"
            kind = f"conformance.{result.level.value}"
            failure = ET.SubElement(case, "failure", {"type": kind, "message": message})
            failure.text = "\n".join(
                line
                for line in (
                    f"expected: {result.expected}",
                    f"actual: {result.actual}",
                    f"detail: {result.detail}" if result.detail else "",
                )
                if line
            )
        elif result.status is Status.SKIP:
            ET.SubElement(case, "skipped", {"message": result.detail})
        elif result.actual:
            ET.SubElement(case, "system-out").text = result.actual
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "junit":
        return render_junit(report)
    if fmt == "text":
        return render_text(report)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
