"""Conformance reports: text, JSON and JUnit renderings, progress lines, case selection."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from travelgate import conformance as conf
from travelgate.conformance import CaseResult, Level, Report, Status

PASSED = CaseResult(
    "health.status", Status.PASS, "ServiceState HEALTHY (TRISA v1beta1: TRISAHealth)", "ServiceState HEALTHY",
    "", 3.25,
)  # fmt: skip
FAILED = CaseResult(
    "tamper.hmac",
    Status.FAIL,
    "error envelope INVALID_SIGNATURE (105), retry=false, gRPC OK (TRISA v1beta1: receive checks)",
    'gRPC UNKNOWN: trisa rejection [INVALID_SIGNATURE]: <bad> & "quoted"',
    "a failure must come back as an error envelope",
    12.5,
)
SKIPPED = CaseResult(
    "transfer.opens",
    Status.SKIP,
    "unseal ... (TRISA v1beta1: replies)",
    "",
    "the peer rejected it",
    0.1,
)
RECOMMENDED_FAILED = CaseResult(
    "duplicate.exact", Status.FAIL, "the stored reply (trisa.md 7.7 R3)", "a different reply",
    "", 2.0, Level.RECOMMENDED,
)  # fmt: skip


def _report(*results: CaseResult, level: Level = Level.REQUIRED) -> Report:
    return Report("127.0.0.1:8101", "bob.example", results, level)


def test_counts_and_verdict() -> None:
    report = _report(PASSED, FAILED, SKIPPED)
    assert (report.passed, report.failed, report.skipped) == (1, 1, 1)
    assert not report.ok
    assert _report(PASSED, SKIPPED).ok
    assert _report().ok  # nothing ran, nothing failed
    assert report.names(Status.FAIL) == ["tamper.hmac"]
    assert report.result("transfer.opens") is SKIPPED
    with pytest.raises(KeyError):
        report.result("no.such.case")


def test_json_document_shape() -> None:
    document = json.loads(conf.render_json(_report(PASSED, FAILED, SKIPPED)))
    assert document == {
        "target": "127.0.0.1:8101",
        "peer": "bob.example",
        "level": "required",
        "ok": False,
        "summary": {"passed": 1, "failed": 1, "skipped": 1},
        "levels": {
            "required": {"passed": 1, "failed": 1, "skipped": 1},
            "recommended": {"passed": 0, "failed": 0, "skipped": 0},
        },
        "cases": [
            {
                "name": r.name,
                "level": "required",
                "status": r.status.value,
                "expected": r.expected,
                "actual": r.actual,
                "detail": r.detail,
                "duration_ms": r.duration_ms,
            }
            for r in (PASSED, FAILED, SKIPPED)
        ],
    }
    assert document["cases"][1]["status"] == "FAIL"


def test_json_of_an_empty_run() -> None:
    document = json.loads(conf.render(_report(), "json"))
    assert document["summary"] == {"passed": 0, "failed": 0, "skipped": 0}
    assert document["cases"] == []


def test_junit_testsuite() -> None:
    text = conf.render_junit(_report(PASSED, FAILED, SKIPPED))
    assert text.startswith("<?xml")
    suite = ET.fromstring(text)  # noqa: S314 - our own report
    assert suite.tag == "testsuite"
    assert suite.attrib["tests"] == "3"
    assert suite.attrib["failures"] == "1"
    assert suite.attrib["skipped"] == "1"
    assert suite.attrib["errors"] == "0"
    assert float(suite.attrib["time"]) == pytest.approx(0.016, abs=0.001)
    suite_properties = suite.find("properties")
    assert suite_properties is not None
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite_properties}
    assert properties == {"target": "127.0.0.1:8101", "peer": "bob.example", "level": "required"}
    cases = {case.attrib["name"]: case for case in suite.iter("testcase")}
    assert list(cases) == ["health.status", "tamper.hmac", "transfer.opens"]
    assert cases["tamper.hmac"].attrib["classname"] == "conformance.tamper"
    assert cases["health.status"].attrib["time"] == "0.003"
    failure = cases["tamper.hmac"].find("failure")
    assert failure is not None
    # Markup in what the peer said is escaped, not interpreted.
    assert '<bad> & "quoted"' in failure.attrib["message"]
    assert failure.text is not None
    assert "expected: error envelope INVALID_SIGNATURE" in failure.text
    assert "detail: a failure must" in failure.text
    skipped = cases["transfer.opens"].find("skipped")
    assert skipped is not None
    assert skipped.attrib["message"] == "the peer rejected it"
    assert cases["health.status"].find("failure") is None
    assert cases["health.status"].find("skipped") is None


def test_text_report() -> None:
    text = conf.render_text(_report(PASSED, FAILED, SKIPPED))
    lines = text.splitlines()
    assert lines[0] == conf.header("127.0.0.1:8101", "bob.example")
    assert lines[1].startswith("PASS  health.status ")
    assert lines[1].endswith("3.2 ms")
    assert lines[2].startswith("FAIL  tamper.hmac ")
    assert lines[3].strip() == f"expected: {FAILED.expected}"
    assert lines[4].strip() == f"actual:   {FAILED.actual}"
    assert lines[5].strip() == f"detail:   {FAILED.detail}"
    assert lines[6].startswith("SKIP  transfer.opens ")
    assert lines[6].endswith("the peer rejected it")
    assert lines[1].split()[2] == "required"
    assert lines[-1] == (
        "3 cases: 1 passed, 1 failed, 1 skipped: NOT conformant at level required "
        "(required: 1 passed, 1 failed, 1 skipped)"
    )
    assert ": conformant at level required" in conf.summary_line(_report(PASSED))


def test_levels_decide_the_verdict() -> None:
    """A recommended failure fails only a run gated at the recommended level."""
    required_run = _report(PASSED, RECOMMENDED_FAILED)
    assert required_run.ok
    assert not _report(PASSED, RECOMMENDED_FAILED, level=Level.RECOMMENDED).ok
    assert not _report(FAILED, level=Level.RECOMMENDED).ok
    assert required_run.level_summary(Level.RECOMMENDED) == {
        "passed": 0,
        "failed": 1,
        "skipped": 0,
    }
    assert conf.summary_line(required_run) == (
        "2 cases: 1 passed, 1 failed, 0 skipped: conformant at level required "
        "(required: 1 passed, 0 failed, 0 skipped; recommended: 0 passed, 1 failed, 0 skipped)"
    )
    document = json.loads(conf.render_json(required_run))
    assert document["ok"] is True
    assert [case["level"] for case in document["cases"]] == ["required", "recommended"]
    suite = ET.fromstring(conf.render_junit(required_run))  # noqa: S314 - our own report
    case = next(c for c in suite.iter("testcase") if c.attrib["name"] == "duplicate.exact")
    assert {p.attrib["name"]: p.attrib["value"] for p in case.iter("property")} == {
        "level": "recommended"
    }
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "conformance.recommended"
    assert "recommended" in conf.progress_line(RECOMMENDED_FAILED)


def test_every_case_has_a_level_and_recommended_ones_say_why() -> None:
    levels = {case.name: case.level for case in conf.CASES}
    assert set(conf.RECOMMENDED) <= set(levels)
    for case in conf.CASES:
        assert (case.level is Level.RECOMMENDED) == bool(case.reference), case.name
    # The stricter rules of trisa.md that the reference library does not follow.
    for name in ("duplicate.exact", "envelope.missing_id", "exchange.closed"):
        assert levels[name] is Level.RECOMMENDED
    # ...and where the reference refuses with another code, the refusal itself is required.
    assert levels["payload.missing_identity.refused"] is Level.REQUIRED
    assert levels["tamper.hmac"] is Level.REQUIRED


def test_progress_lines() -> None:
    assert "\n" not in conf.progress_line(FAILED, verbose=False)
    assert conf.progress_line(FAILED, verbose=False).endswith(FAILED.actual)
    assert conf.progress_line(FAILED).count("\n") == 3
    without_detail = CaseResult("x.y", Status.FAIL, "e", "a", "", 1.0)
    assert conf.progress_line(without_detail).count("\n") == 2
    assert conf.progress_line(PASSED) == conf.progress_line(PASSED, verbose=False)


def test_render_dispatch() -> None:
    report = _report(PASSED)
    assert conf.render(report, "text") == conf.render_text(report)
    assert conf.render(report, "junit") == conf.render_junit(report)
    with pytest.raises(ValueError, match="unknown format"):
        conf.render(report, "yaml")
    assert conf.FORMATS == ("text", "json", "junit")


# -- the catalogue -----------------------------------------------------------------------------


def test_case_names_are_unique_dotted_and_cite_the_spec() -> None:
    names = [case.name for case in conf.CASES]
    assert len(names) == len(set(names))
    for case in conf.CASES:
        group, _, rest = case.name.partition(".")
        assert group, case.name
        assert rest, case.name
        assert case.checks, case.name
        assert case.expected, case.name
        assert case.spec, case.name
        # Every section a case cites has a TRISA topic: the report never names a
        # document the user does not have.
        assert case.expectation.endswith(")"), case.name
        cited = case.expectation.rsplit("(TRISA v1beta1: ", 1)[1]
        assert cited.rstrip(")"), case.name
    # The cases the issue names are all there.
    for required in (
        "health.status",
        "keys.exchange",
        "keys.signature",
        "transfer.same_id",
        "transfer.sealed_to_us",
        "transfer.opens",
        "tamper.payload_bit",
        "tamper.hmac",
        "tamper.encryption_key",
        "tamper.pks",
        "tamper.timestamp",
        "algorithms.aes128",
        "algorithms.hmac_sha1",
        "payload.missing_identity",
        "payload.invalid_identity",
        "payload.unparseable_transaction",
        "envelope.invalid_id",
        "envelope.unsealed",
        "duplicate.exact",
        "stream.order",
        "errors.as_envelopes",
        "tls.no_client_cert",
    ):
        assert required in names


def test_the_aggregate_cases_run_last() -> None:
    names = [case.name for case in conf.CASES]
    assert names[-2:] == ["errors.same_id", "errors.well_formed"]
    assert names.index("transfer.same_id") < names.index("duplicate.exact")
    assert names.index("duplicate.exact") < names.index("exchange.completed")


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["tamper.hmac"], ["tamper.hmac"]),
        (["algorithms"], ["algorithms.aes128", "algorithms.hmac_sha1"]),
        (["tls.*"], ["tls.no_client_cert", "tls.foreign_ca"]),
        (["*.same_id"], ["transfer.same_id", "errors.same_id"]),
        (["tls.foreign_ca", "health"], ["health.status", "tls.foreign_ca"]),  # catalogue order
    ],
)
def test_select(patterns: list[str], expected: list[str]) -> None:
    assert [case.name for case in conf.select(patterns)] == expected


def test_select_everything_and_typos() -> None:
    assert conf.select([]) == conf.CASES
    with pytest.raises(ValueError, match=r"'tamper\.hmca'"):
        conf.select(["tamper.hmac", "tamper.hmca"])
    # A group name is not a prefix of another group.
    with pytest.raises(ValueError, match="no case matches"):
        conf.select(["tam"])
