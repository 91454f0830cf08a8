"""What an operator meets first, as real subprocesses: Ctrl-C during `dev run`, a stray
TRAVELGATE_ variable, and every start-up failure said in one line of travelgate's own."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.nodes import ALICE, BOB, TestPki, two_node_specs, write_config, write_peers
from support.processes import TRAVELGATE, NodeProcess, run_cli

# Traces of text that is not ours: grpc's C core logging, parser dumps, crashes.
FOREIGN = re.compile(
    r"Traceback|internal error|RuntimeError|ParseError|asn1|ASN\.1|\.cc:\d+\]|"
    r"GRPC_VERBOSITY|SSL_ERROR|OPENSSL_internal|TSI_"
)
STARTED = re.compile(r"node started\s.*api_port=(\d+).*trisa_port=(\d+)")


def one_clear_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The single stderr line of a failed command, checked for anything foreign."""
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert not FOREIGN.search(lines[0]), lines[0]
    assert lines[0].startswith(("travelgate: error: ", "no reply: ")), lines[0]
    return lines[0]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- Ctrl-C during `dev run` -----------------------------------------------------------------


class DevRun:
    """`travelgate dev run DIR` in its own process group, stderr kept line by line."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            [TRAVELGATE, "dev", "run", str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.stdout = b""
        self.stderr = b""

    def interrupt(self, timeout: float) -> tuple[int, float]:
        """SIGINT; the exit code and how long the exit took."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.stdout, self.stderr = self.process.communicate(timeout=timeout)
        return self.process.returncode, time.monotonic() - sent

    def group_is_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def stop_quietly(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate(timeout=10)


@pytest.fixture
def dev_runs() -> Iterator[list[DevRun]]:
    runs: list[DevRun] = []
    yield runs
    for run in runs:
        run.stop_quietly()


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_ctrl_c_while_the_dev_pki_is_made_stops_at_once(
    tmp_path: Path, dev_runs: list[DevRun]
) -> None:
    folder = tmp_path / "certs"
    run = DevRun(folder)
    dev_runs.append(run)
    # The folder appears when key generation begins (RSA-4096: seconds of work left).
    wait_for(folder.exists, 60, "the PKI folder")
    code, took = run.interrupt(timeout=15)
    assert code == 130, run.stderr.decode()
    assert took < 5, f"took {took:.1f} s"
    assert run.group_is_gone()
    err = run.stderr.decode()
    assert "node started" not in err
    assert err.strip().splitlines()[-1] == (
        "travelgate: interrupted during start-up; nothing is left running"
    )
    assert not FOREIGN.search(err), err
    assert not (folder / "dev-api-key").exists()
    # What was written is complete or absent: `certs init` finishes the PKI.
    done = run_cli("certs", "init", str(folder), "--key-size", "2048")
    assert done.returncode == 0, done.stderr.decode()


def _dev_pki_on_free_ports(folder: Path) -> None:
    done = run_cli("certs", "init", str(folder), "--key-size", "2048")
    assert done.returncode == 0, done.stderr.decode()
    for label in ("alice", "bob"):
        config = folder / f"{label}.toml"
        text = re.sub(
            r'_listen = "127\.0\.0\.1:\d+"', '_listen = "127.0.0.1:0"', config.read_text()
        )
        config.write_text(text)


def test_ctrl_c_while_the_nodes_start_stops_both(tmp_path: Path, dev_runs: list[DevRun]) -> None:
    folder = tmp_path / "certs"
    _dev_pki_on_free_ports(folder)
    run = DevRun(folder)
    dev_runs.append(run)
    assert run.process.stderr is not None
    # Interrupt as soon as the first node says it listens: the second is still starting.
    first = b""
    while b"node started" not in first:
        line = run.process.stderr.readline()
        assert line, "dev run exited before a node started"
        first += line
    code, took = run.interrupt(timeout=30)
    err = first.decode() + run.stderr.decode()
    assert code in (0, 130), err  # 0 only if both were up before the signal landed
    assert took < 10, f"took {took:.1f} s"
    assert run.group_is_gone()
    assert not FOREIGN.search(err), err
    started = STARTED.findall(err)
    assert started, err
    assert err.count("node stopped") == len(started)
    for api_port, trisa_port in started:
        assert port_is_free(int(api_port)), api_port
        assert port_is_free(int(trisa_port)), trisa_port


def test_ctrl_c_once_running_stops_both_and_exits_0(tmp_path: Path, dev_runs: list[DevRun]) -> None:
    folder = tmp_path / "certs"
    _dev_pki_on_free_ports(folder)
    run = DevRun(folder)
    dev_runs.append(run)
    assert run.process.stdout is not None
    banner = b""
    while b"Ctrl-C stops both nodes" not in banner:
        line = run.process.stdout.readline()
        assert line, "dev run exited before it was running"
        banner += line
    code, took = run.interrupt(timeout=30)
    err = run.stderr.decode()
    assert code == 0, err
    assert took < 10
    assert run.group_is_gone()
    assert err.count("node stopped") == 2, err
    for api_port, trisa_port in STARTED.findall(err):
        assert port_is_free(int(api_port))
        assert port_is_free(int(trisa_port))


# -- TRAVELGATE_ variables ---------------------------------------------------------------------


@pytest.fixture
def alice_config(test_pki: TestPki, tmp_path: Path) -> Path:
    alice, _bob = two_node_specs(bob_robot=None)
    test_pki.write(BOB)  # peers.toml pins bob's certificate
    write_peers(test_pki.root, [ALICE, BOB])
    return write_config(test_pki, alice, database=tmp_path / "alice.db")


def test_an_unknown_travelgate_variable_is_refused(alice_config: Path) -> None:
    done = run_with_env(
        ["serve", "--config", str(alice_config)], TRAVELGATE_NODE_NAMEE="alice.example"
    )
    assert done.returncode == 1
    line = one_clear_line(done)
    assert "unknown variable TRAVELGATE_NODE_NAMEE" in line
    assert "did you mean TRAVELGATE_NODE_NAME?" in line


def test_dev_run_refuses_an_unknown_travelgate_variable(tmp_path: Path) -> None:
    done = run_with_env(["dev", "run", str(tmp_path / "certs")], TRAVELGATE_LOGING_LEVEL="debug")
    assert done.returncode == 1
    assert "unknown variable TRAVELGATE_LOGING_LEVEL" in one_clear_line(done)
    assert not (tmp_path / "certs").exists()


def test_the_documented_travelgate_variables_are_accepted(alice_config: Path) -> None:
    node = NodeProcess(
        "serve",
        "--config",
        str(alice_config),
        env={
            "TRAVELGATE_API_KEY": "tgk_for_client_commands",
            "TRAVELGATE_TEST_ANYTHING": "1",
            "TRAVELGATE_LOGGING_LEVEL": "info",
        },
    )
    try:
        node.wait_started()
        assert node.terminate() == 0
    finally:
        node.stop_quietly()


def run_with_env(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [TRAVELGATE, *args],
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


# -- one clear line per failure -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"hello, I am not a key\n", "neither PEM (no -----BEGIN line) nor a DER certificate"),
        (bytes(range(7, 250)), "neither PEM (no -----BEGIN line) nor a DER certificate"),
        (b"", "is empty"),
        (
            b"-----BEGIN CERTIFICATE-----\nMIIB!!\n-----END CERTIFICATE-----\n",
            "not valid base64",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\nMIIBCgKCAQEA\n-----END CERTIFICATE-----\n",
            "not a readable X.509 certificate",
        ),
    ],
    ids=["text", "binary", "empty", "bad-base64", "bad-der"],
)
def test_keys_pks_on_what_is_not_a_key(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    done = run_cli("keys", "pks", str(path))
    assert done.returncode == 2
    assert expected in one_clear_line(done)


def _broken_file(folder: Path) -> None:
    folder.write_text("not a folder")


def _broken_ca(folder: Path) -> None:
    (folder / "ca.pem").write_text("garbage\n")


def _broken_config(folder: Path) -> None:
    (folder / "alice.toml").write_text("[node\n")


def _broken_database(folder: Path) -> None:
    (folder / "alice.db").mkdir()


def _broken_peers(folder: Path) -> None:
    (folder / "peers.toml").write_text("peer = [\n")


@pytest.mark.parametrize(
    ("breakage", "code", "expected"),
    [
        (_broken_file, 2, "exists and is not a directory"),
        (_broken_ca, 1, "ca.pem holds no readable PEM certificate"),
        (_broken_config, 1, "alice.toml: not valid TOML"),
        (_broken_database, 1, "cannot open database"),
        (_broken_peers, 1, "peers.toml is kept but unreadable"),
    ],
    ids=["a-file", "ca", "config", "database", "peers"],
)
def test_dev_run_on_an_unusable_folder(
    tmp_path: Path, breakage: object, code: int, expected: str
) -> None:
    folder = tmp_path / "certs"
    if breakage is not _broken_file:
        _dev_pki_on_free_ports(folder)
    assert callable(breakage)
    breakage(folder)
    done = run_cli("dev", "run", str(folder), timeout=60)
    assert done.returncode == code
    assert expected in one_clear_line(done)


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("listener", ["trisa_listen", "api_listen"])
def test_a_port_in_use_is_one_line(alice_config: Path, held_port: int, listener: str) -> None:
    other = "api_listen" if listener == "trisa_listen" else "trisa_listen"
    done = run_with_env(
        ["serve", "--config", str(alice_config)],
        **{
            f"TRAVELGATE_NODE_{listener.upper()}": f"127.0.0.1:{held_port}",
            f"TRAVELGATE_NODE_{other.upper()}": "127.0.0.1:0",
        },
    )
    assert done.returncode == 1
    assert one_clear_line(done) == (
        f"travelgate: error: [node] {listener} 127.0.0.1:{held_port}: address already in use"
    )


@pytest.mark.parametrize(
    ("variable", "content", "expected"),
    [
        ("TRAVELGATE_TLS_CERT", b"not a certificate\n", "[tls] cert"),
        ("TRAVELGATE_TLS_TRUST", bytes(range(7, 250)), "[tls] trust"),
        ("TRAVELGATE_TLS_KEY", bytes(range(7, 250)), "not a readable private key"),
    ],
    ids=["cert", "trust", "key"],
)
def test_a_bad_certificate_file_is_one_line(
    alice_config: Path, tmp_path: Path, variable: str, content: bytes, expected: str
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_bytes(content)
    done = run_with_env(["serve", "--config", str(alice_config)], **{variable: str(bad)})
    assert done.returncode == 1
    assert expected in one_clear_line(done)


def test_a_peer_of_another_ca_is_one_line(
    test_pki: TestPki, alice_config: Path, tmp_path: Path
) -> None:
    # bob is a real node whose certificate chains to a CA alice does not trust.
    other = TestPki(tmp_path / "other-ca")
    _alice, bob = two_node_specs(bob_robot=None)
    write_peers(other.root, [BOB])
    bob_config = write_config(other, bob, database=tmp_path / "bob.db")
    node = NodeProcess("robot", "--policy", "sync-accept", "--config", str(bob_config))
    try:
        port = node.wait_started()
        peers = tmp_path / "alice-peers.toml"
        peers.write_text(f'[[peer]]\nname = "{BOB}"\nendpoint = "127.0.0.1:{port}"\n')
        done = run_with_env(
            ["keys", "exchange", "--config", str(alice_config), "--to", BOB],
            TRAVELGATE_DIRECTORY_FILE=str(peers),
        )
    finally:
        node.stop_quietly()
    assert done.returncode == 1
    assert one_clear_line(done) == (
        f"no reply: {BOB}: TLS handshake failed: its certificate does not chain to our [tls] trust"
    )
