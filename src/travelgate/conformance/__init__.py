"""`travelgate conformance`: checks any TRISA peer against the TRISA v1beta1 protocol.

Each named case sends one request (or judges what earlier ones brought back) and reports
PASS, FAIL (what was expected, what came back) or SKIP (why it could not be judged). A
peer that legitimately refuses the valid transfer is conformant: the cases that need a
sealed acceptance are then skipped, not failed.

    settings = Settings(target="127.0.0.1:8101", peer_name="bob.example", parties=...)
    report = await run_suite(settings, load_credentials(config))
    print(render(report, "json"))
"""

from travelgate.conformance._catalogue import CASES, select
from travelgate.conformance._levels import RECOMMENDED
from travelgate.conformance._model import (
    LEVELS,
    Case,
    CaseResult,
    Finding,
    Level,
    Report,
    Status,
)
from travelgate.conformance._payloads import (
    DEFAULT_BENEFICIARY_ADDRESS,
    DEFAULT_BENEFICIARY_NAME,
    Parties,
)
from travelgate.conformance._probe import DEFAULT_TIMEOUT, Settings, Skip
from travelgate.conformance._report import (
    FORMATS,
    header,
    progress_line,
    render,
    render_json,
    render_junit,
    render_text,
    summary_line,
)
from travelgate.conformance._runner import run_case, run_suite

__all__ = [
    "CASES",
    "DEFAULT_BENEFICIARY_ADDRESS",
    "DEFAULT_BENEFICIARY_NAME",
    "DEFAULT_TIMEOUT",
    "FORMATS",
    "LEVELS",
    "RECOMMENDED",
    "Case",
    "CaseResult",
    "Finding",
    "Level",
    "Parties",
    "Report",
    "Settings",
    "Skip",
    "Status",
    "header",
    "progress_line",
    "render",
    "render_json",
    "render_junit",
    "render_text",
    "run_case",
    "run_suite",
    "select",
    "summary_line",
]
