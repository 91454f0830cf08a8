"""The conformance suite against real nodes over mTLS: ours and every robot pass, the broken
robots fail with the right case names, and the CLI keeps its contract (issue 7, item 4).

Nodes run in process on port 0 (the Cluster harness); the suite runs in process for most
tests and as a real `travelgate conformance` subprocess for the CLI ones, awaited without
blocking the event loop the nodes serve on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.nodes import BOB, BOB_ADDRESS, Cluster, NodeSpec, TestPki, two_node_specs
from travelgate import conformance as conf
from travelgate._toml import render_toml
from travelgate.config import load_config
from travelgate.node import Node
from travelgate.trisa import Credentials, Peer, load_credentials

TESTER = "tester.example"
BOB_NAME = ("Jones", "Bob")
TRAVELGATE = str(Path(sys.executable).with_name("travelgate"))

SEALED_REPLY_CASES = {
    "transfer.reply_structure",
    "transfer.sealed_to_us",
    "transfer.opens",
    "transfer.state",
    "transfer.echo",
}
# Cases whose peer answers with a status by design: the grpc-errors robot passes them.
STATUS_CASES = {"envelope.invalid_id", "envelope.missing_id"}


def _bob(robot: str | None) -> NodeSpec:
    return two_node_specs(bob_robot=robot)[1]


async def _start_target(cluster: Cluster, robot: str | None, *, knows_tester: bool = True) -> Node:
    await cluster.start(_bob(robot))
    node = cluster.nodes[BOB]
    if knows_tester:
        # The tester runs no server: callbacks to it fail, which the robots only log.
        node.gateway.directory.put(Peer(TESTER, "127.0.0.1:1"))
    return node


def _tester_config(test_pki: TestPki, folder: Path, peers: list[dict[str, object]]) -> Path:
    cert, key = test_pki.write(TESTER)
    (folder / "tester-peers.toml").write_text(render_toml({"peer": peers}))
    document = {
        "node": {
            "name": TESTER,
            "legal_name": "Conformance Tester Ltd",
            "country": "GB",
            "database": str(folder / "tester.db"),
        },
        "tls": {"cert": str(cert), "key": str(key), "trust": str(test_pki.trust)},
        "storage": {"key_file": str(folder / "tester.key")},
        "directory": {"file": "tester-peers.toml"},
        "logging": {"level": "warning"},
    }
    path = folder / "tester.toml"
    path.write_text(render_toml(document))
    return path


@pytest.fixture
def tester(test_pki: TestPki, tmp_path: Path) -> Credentials:
    return load_credentials(load_config(_tester_config(test_pki, tmp_path, [])))


def _settings(node: Node, **changes: object) -> conf.Settings:
    settings = conf.Settings(
        target=f"127.0.0.1:{node.trisa_port}",
        peer_name=BOB,
        parties=conf.Parties(BOB_ADDRESS, BOB_NAME, "Conformance Tester Ltd", "GB"),
        timeout=10,
    )
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _failures(report: conf.Report) -> str:
    return "\n".join(conf.progress_line(r) for r in report.results if r.status is conf.Status.FAIL)


# -- conformant peers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("robot", "skipped"),
    [
        (None, {"exchange.review"}),
        ("sync-accept", {"exchange.review"}),
        ("async-accept", {"exchange.review", "exchange.completed", "exchange.closed"}),
        ("repair", SEALED_REPLY_CASES),
        ("reject", SEALED_REPLY_CASES | {"exchange.review", "exchange.completed"}),
    ],
)
async def test_conformant_peers_pass(
    cluster: Cluster, tester: Credentials, robot: str | None, skipped: set[str]
) -> None:
    node = await _start_target(cluster, robot)
    report = await conf.run_suite(_settings(node), tester)
    assert report.ok, _failures(report)
    assert set(report.names(conf.Status.SKIP)) == skipped
    assert len(report.results) == len(conf.CASES)
    # A skip always says why.
    assert all(r.detail for r in report.results if r.status is conf.Status.SKIP)


async def test_our_node_passes_the_cases_of_a_sealed_acceptance(
    cluster: Cluster, tester: Credentials
) -> None:
    node = await _start_target(cluster, None)
    report = await conf.run_suite(_settings(node), tester)
    names = [
        *SEALED_REPLY_CASES,
        "transfer.same_id",
        "duplicate.exact",
        "exchange.completed",
        "exchange.closed",
    ]
    for name in names:
        assert report.result(name).status is conf.Status.PASS, name
    assert "ACCEPTED" in report.result("transfer.same_id").actual
    assert "byte for byte" in report.result("duplicate.exact").actual


async def test_a_rejection_of_the_valid_transfer_skips_with_a_hint(
    cluster: Cluster, tester: Credentials
) -> None:
    node = await _start_target(cluster, None)
    settings = _settings(node, parties=conf.Parties("bc1qnot0a0customer"))
    report = await conf.run_suite(settings, tester, cases=conf.select(["transfer"]))
    assert report.ok
    opens = report.result("transfer.opens")
    assert opens.status is conf.Status.SKIP
    assert "UNKNOWN_WALLET_ADDRESS" in opens.detail
    assert "--beneficiary-address" in opens.detail


# -- broken robots ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("robot", "failed"),
    [
        (
            "wrong-id",
            {"transfer.same_id", "exchange.completed", "stream.order", "errors.same_id"},
        ),
        ("wrong-key", {"transfer.sealed_to_us", "transfer.opens", "exchange.completed"}),
    ],
)
async def test_broken_robots_fail_the_right_cases(
    cluster: Cluster, tester: Credentials, robot: str, failed: set[str]
) -> None:
    node = await _start_target(cluster, robot)
    report = await conf.run_suite(_settings(node), tester)
    assert set(report.names(conf.Status.FAIL)) == failed, _failures(report)


async def test_wrong_id_failure_names_both_ids(cluster: Cluster, tester: Credentials) -> None:
    node = await _start_target(cluster, "wrong-id")
    report = await conf.run_suite(_settings(node), tester, cases=conf.select(["transfer.same_id"]))
    result = report.result("transfer.same_id")
    assert result.status is conf.Status.FAIL
    assert "reply id" in result.actual
    assert "request id" in result.detail


async def test_wrong_key_failure_names_both_keys(cluster: Cluster, tester: Credentials) -> None:
    node = await _start_target(cluster, "wrong-key")
    report = await conf.run_suite(_settings(node), tester)
    sealed = report.result("transfer.sealed_to_us")
    assert tester.keyring.find(sealed.detail.rsplit(" ", 1)[-1]) is tester.sealing_key
    assert "INVALID_KEY" in report.result("transfer.opens").actual
    assert report.result("transfer.echo").status is conf.Status.SKIP


async def test_errors_as_grpc_statuses_fail_every_error_case(
    cluster: Cluster, tester: Credentials
) -> None:
    node = await _start_target(cluster, "grpc-errors")
    report = await conf.run_suite(_settings(node), tester)
    error_cases = {
        case.name
        for case in conf.CASES
        if case.group in ("tamper", "algorithms", "payload", "envelope")
        and case.name not in STATUS_CASES
    }
    assert set(report.names(conf.Status.FAIL)) == error_cases | {
        "errors.as_envelopes",
        "exchange.closed",
    }
    as_envelopes = report.result("errors.as_envelopes")
    assert "gRPC UNKNOWN" in as_envelopes.actual
    assert "UNKNOWN_WALLET_ADDRESS" in as_envelopes.actual
    assert "TRISA v1beta1" in as_envelopes.detail
    # The acceptance itself is sealed and correct: only how failures travel is wrong.
    for name in ["transfer.same_id", *SEALED_REPLY_CASES, "stream.order"]:
        assert report.result(name).status is conf.Status.PASS, name


# -- peers that cannot be tested -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_target_is_one_failure_and_skips(tester: Credentials) -> None:
    settings = conf.Settings(
        target=f"127.0.0.1:{_free_port()}",
        peer_name=BOB,
        parties=conf.Parties(BOB_ADDRESS),
        timeout=5,
    )
    report = await conf.run_suite(settings, tester)
    assert report.names(conf.Status.FAIL) == ["health.status"]
    assert "UNAVAILABLE" in report.result("health.status").actual
    assert report.skipped == len(conf.CASES) - 1


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_peer_that_hangs_meets_the_deadline(
    tester: Credentials, silent_server: int
) -> None:
    settings = conf.Settings(
        target=f"127.0.0.1:{silent_server}",
        peer_name=BOB,
        parties=conf.Parties(BOB_ADDRESS),
        timeout=0.5,
    )
    report = await conf.run_suite(settings, tester, cases=conf.select(["health", "tamper.hmac"]))
    assert report.names(conf.Status.FAIL) == ["health.status"]
    assert "DEADLINE_EXCEEDED" in report.result("health.status").actual
    assert report.result("tamper.hmac").status is conf.Status.SKIP


async def test_a_peer_that_does_not_know_us(cluster: Cluster, tester: Credentials) -> None:
    node = await _start_target(cluster, None, knows_tester=False)
    pinned = node.gateway.credentials.sealing_key.public_key()
    report = await conf.run_suite(
        _settings(node, pinned_key=pinned),
        tester,
        cases=conf.select(["keys.exchange", "transfer.same_id", "tamper.hmac"]),
    )
    assert "PERMISSION_DENIED" in report.result("keys.exchange").actual
    # Sealed to the pinned key, the transfers reach step 7 and are refused there.
    assert "FORBIDDEN" in report.result("transfer.same_id").actual
    assert report.result("tamper.hmac").status is conf.Status.SKIP


# -- the command line ------------------------------------------------------------------------


@dataclasses.dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


async def _cli(*args: str) -> Done:
    process = await asyncio.create_subprocess_exec(
        TRAVELGATE,
        "conformance",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode is not None
    return Done(process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture
def cli_config(test_pki: TestPki, tmp_path: Path) -> Path:
    return _tester_config(test_pki, tmp_path, [])


def _config_for(test_pki: TestPki, tmp_path: Path, node: Node) -> Path:
    """The tester's config, its directory listing the target at its real port."""
    peer: dict[str, object] = {
        "name": BOB,
        "endpoint": f"127.0.0.1:{node.trisa_port}",
        "cert": str(test_pki.root / BOB / "cert.pem"),
        "addresses": [BOB_ADDRESS],
    }
    return _tester_config(test_pki, tmp_path, [peer])


async def test_cli_json_against_our_node(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path
) -> None:
    node = await _start_target(cluster, None)
    config = _config_for(test_pki, tmp_path, node)
    done = await _cli(
        "--target", f"127.0.0.1:{node.trisa_port}", "--config", str(config),
        "--format", "json", "--beneficiary-name", "Jones, Bob",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # stdout holds the document and nothing else
    assert set(document) == {"target", "peer", "level", "ok", "summary", "levels", "cases"}
    assert document["level"] == "required"
    assert document["ok"] is True
    assert document["peer"] == BOB  # found in the directory by its endpoint
    assert document["summary"] == {
        "passed": len(conf.CASES) - 1,
        "failed": 0,
        "skipped": 1,
    }
    first = document["cases"][0]
    assert set(first) == {
        "name",
        "level",
        "status",
        "expected",
        "actual",
        "detail",
        "duration_ms",
    }
    # travelgate follows trisa.md's stricter rules too: nothing fails at either level.
    assert document["levels"]["recommended"]["failed"] == 0
    assert document["levels"]["recommended"]["passed"] == len(conf.RECOMMENDED)
    statuses = {case["name"]: case["status"] for case in document["cases"]}
    assert statuses["transfer.opens"] == "PASS"  # the directory's address was used
    # One progress line per case on stderr.
    progress = [line for line in done.stderr.splitlines() if line[:4] in ("PASS", "SKIP")]
    assert len(progress) == len(conf.CASES)
    assert "Traceback" not in done.stderr


async def test_cli_junit_against_a_broken_robot(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path
) -> None:
    node = await _start_target(cluster, "wrong-id")
    config = _config_for(test_pki, tmp_path, node)
    output = tmp_path / "report.xml"
    done = await _cli(
        "--target", f"127.0.0.1:{node.trisa_port}", "--config", str(config),
        "--format", "junit", "--target-name", BOB, "--beneficiary-name", "Jones, Bob",
        "--output", str(output),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert output.read_text() == done.stdout
    suite = ET.fromstring(done.stdout)  # noqa: S314 - our own report
    assert suite.tag == "testsuite"
    assert suite.get("tests") == str(len(conf.CASES))
    assert suite.get("failures") == "4"
    failed = {
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert failed == {"transfer.same_id", "exchange.completed", "stream.order", "errors.same_id"}
    assert "FAIL  transfer.same_id" in done.stderr


async def test_cli_text_against_the_grpc_errors_robot(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path
) -> None:
    node = await _start_target(cluster, "grpc-errors")
    config = _config_for(test_pki, tmp_path, node)
    done = await _cli(
        "--target", f"127.0.0.1:{node.trisa_port}", "--config", str(config),
        "--case", "errors", "--case", "transfer.same_id", "--beneficiary-name", "Jones, Bob",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("travelgate conformance:")
    assert any(line.startswith("FAIL  errors.as_envelopes") for line in lines)
    assert any(line.startswith("PASS  transfer.same_id") for line in lines)
    assert any(line.strip().startswith("expected:") for line in lines)
    assert "1 failed" in lines[-1]


async def test_cli_level_recommended_and_a_bad_level(
    cluster: Cluster, test_pki: TestPki, tmp_path: Path
) -> None:
    node = await _start_target(cluster, None)
    config = _config_for(test_pki, tmp_path, node)
    done = await _cli(
        "--target", f"127.0.0.1:{node.trisa_port}", "--config", str(config),
        "--case", "duplicate", "--case", "transfer.same_id", "--level", "recommended",
        "--beneficiary-name", "Jones, Bob",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(
        line.startswith("PASS  duplicate.exact") and " recommended " in line for line in lines
    )
    assert "conformant at level recommended" in lines[-1]
    bad = await _cli("--target", "127.0.0.1:1", "--config", str(config), "--level", "optional")
    assert bad.returncode == 2
    assert "--level" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_cli_list_shows_levels_and_the_reference_behaviour() -> None:
    done = await _cli("--list", "--case", "duplicate", "--case", "tamper.hmac")
    assert done.returncode == 0, done.stderr
    assert "duplicate.exact  [recommended]" in done.stdout
    assert "the reference library: answers a resent envelope" in done.stdout
    assert "tamper.hmac      [required]" in done.stdout


async def test_cli_unreachable_target_exits_1_without_a_traceback(cli_config: Path) -> None:
    done = await _cli("--target", f"127.0.0.1:{_free_port()}", "--config", str(cli_config))
    assert done.returncode == 1
    assert "FAIL  health.status" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "127.0.0.1"], "--target"),
        (["--target", "127.0.0.1:0"], "port 0"),
        (["--target", "127.0.0.1:8100", "--config", "/nonexistent/tester.toml"], "not found"),
        (["--target", "127.0.0.1:8100", "--case", "no.such.case"], "no case matches"),
        (["--target", "127.0.0.1:8100", "--beneficiary-name", "Bob"], "Surname, Given"),
        (["--target", "127.0.0.1:8100", "--timeout", "0"], "--timeout"),
        (["--target", "127.0.0.1:8100", "--format", "yaml"], "invalid choice"),
    ],
)
async def test_cli_usage_errors_exit_2(cli_config: Path, args: list[str], message: str) -> None:
    if "--config" not in args:
        args = [*args, "--config", str(cli_config)]
    done = await _cli(*args)
    assert done.returncode == 2, done
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
