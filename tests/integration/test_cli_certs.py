"""`travelgate certs init` as a real subprocess, and its output used for real gRPC mTLS."""

from __future__ import annotations

import stat
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from travelgate import pki
from travelgate._toml import render_toml

TRAVELGATE = Path(sys.executable).with_name("travelgate")
FAST = ["--key-size", "2048"]
DEFAULT_FILES = {
    "ca.pem",
    "ca.key",
    "alice/cert.pem",
    "alice/key.pem",
    "bob/cert.pem",
    "bob/key.pem",
    "alice.toml",
    "bob.toml",
    "peers.toml",
}
PRIVATE_FILES = {"ca.key", "alice/key.pem", "bob/key.pem"}
RPC_TIMEOUT = 10.0


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert TRAVELGATE.exists(), f"{TRAVELGATE} is not installed (make install)"
    return subprocess.run(
        [str(TRAVELGATE), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def init(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run("certs", "init", directory, *FAST, *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def said(result: subprocess.CompletedProcess[str], verb: str) -> set[str]:
    """The files a run reported with `verb` ("created" / "kept"), relative to DIR."""
    names = set()
    for line in result.stdout.splitlines():
        word, _, path = line.partition(" ")
        if word == verb:
            names.add(path.strip())
    return names


def relative(names: set[str], directory: Path) -> set[str]:
    return {str(Path(name).relative_to(directory)) for name in names}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default `certs init` shared by the read-only tests of this module."""
    directory = tmp_path_factory.mktemp("pki") / "certs"
    result = init(directory)
    assert relative(said(result, "created"), directory) == DEFAULT_FILES
    assert said(result, "kept") == set()
    return directory


# -- what it creates -----------------------------------------------------------------------


def test_init_creates_the_pki_and_configs(pki_dir: Path) -> None:
    assert set(snapshot(pki_dir)) == DEFAULT_FILES
    for name in PRIVATE_FILES:
        assert mode(pki_dir / name) == 0o600, name
    assert (pki_dir / "alice/key.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize("name", ["alice.example", "bob.example"])
def test_node_certificates(pki_dir: Path, name: str) -> None:
    label = name.split(".")[0]
    ca = pki.load_authority(pki_dir)
    identity = pki.load_identity(pki_dir / label)
    cert = identity.certificate
    assert identity.common_name == name
    assert identity.dns_names == [name]
    cert.verify_directly_issued_by(ca.certificate)
    assert identity.chain == (ca.certificate,)
    assert pki.key_matches_certificate(identity.key, cert)
    assert identity.key.key_size == 2048
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {
        x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
        x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,
    }
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime == timedelta(days=365)
    assert pki.validity_problem(cert, now=datetime.now(UTC)) is None


def expected_config(
    label: str, index: int, legal_name: str, customer: dict[str, Any]
) -> dict[str, Any]:
    return {
        "node": {
            "name": f"{label}.example",
            "legal_name": legal_name,
            "country": "GB",
            "trisa_listen": f"127.0.0.1:{8100 + index}",
            "api_listen": f"127.0.0.1:{8000 + index}",
            "database": f"{label}.db",
        },
        "tls": {"cert": f"{label}/cert.pem", "key": f"{label}/key.pem", "trust": "ca.pem"},
        "storage": {"key_file": f"{label}-storage.key", "audit_key_file": f"{label}-audit.key"},
        "directory": {"file": "peers.toml"},
        "trp": {
            "enabled": True,
            "listen": f"127.0.0.1:{8200 + index}",
            "public_url": f"https://127.0.0.1:{8200 + index}",
        },
        "customers": [customer],
    }


def person(
    given: str, family: str, street: str, number: str, town: str, cust: str, born: str, at: str
) -> dict[str, Any]:
    return {
        "naturalPerson": {
            "name": {
                "nameIdentifier": [
                    {
                        "primaryIdentifier": family,
                        "secondaryIdentifier": given,
                        "nameIdentifierType": "LEGL",
                    }
                ]
            },
            "geographicAddress": [
                {
                    "addressType": "HOME",
                    "streetName": street,
                    "buildingNumber": number,
                    "townName": town,
                    "country": "GB",
                }
            ],
            "customerIdentification": cust,
            "dateAndPlaceOfBirth": {"dateOfBirth": born, "placeOfBirth": at},
            "countryOfResidence": "GB",
        }
    }


def test_alice_config(pki_dir: Path) -> None:
    config = tomllib.loads((pki_dir / "alice.toml").read_text())
    assert config == expected_config(
        "alice",
        0,
        "Alice VASP Ltd",
        {
            "id": "cust-1",
            "addresses": ["bc1qalice0customer0000000000000000000000"],
            "person": person(
                "Alice",
                "Smith",
                "Threadneedle Street",
                "12",
                "London",
                "cust-1",
                "1985-04-12",
                "London",
            ),
        },
    )


def test_bob_config(pki_dir: Path) -> None:
    config = tomllib.loads((pki_dir / "bob.toml").read_text())
    assert config == expected_config(
        "bob",
        1,
        "Bob VASP Ltd",
        {
            "id": "bob-cust-1",
            "addresses": ["bc1qbob0customer00000000000000000000000000"],
            "person": person(
                "Bob", "Jones", "Deansgate", "7", "Manchester", "bob-cust-1", "1979-11-03", "Leeds"
            ),
        },
    )


def test_peers_file(pki_dir: Path) -> None:
    peers = tomllib.loads((pki_dir / "peers.toml").read_text())
    assert peers == {
        "peer": [
            {"name": "alice.example", "endpoint": "127.0.0.1:8100", "cert": "alice/cert.pem"},
            {"name": "bob.example", "endpoint": "127.0.0.1:8101", "cert": "bob/cert.pem"},
        ]
    }


def test_config_paths_resolve_against_the_config_folder(pki_dir: Path) -> None:
    for label in ("alice", "bob"):
        config = tomllib.loads((pki_dir / f"{label}.toml").read_text())
        for key in ("cert", "key", "trust"):
            assert (pki_dir / config["tls"][key]).is_file()
        assert (pki_dir / config["directory"]["file"]).is_file()
        cert = pki.read_certificates(pki_dir / config["tls"]["cert"])[0]
        assert pki.common_name_of(cert) == config["node"]["name"]
    for peer in tomllib.loads((pki_dir / "peers.toml").read_text())["peer"]:
        assert pki.common_name_of(pki.read_certificates(pki_dir / peer["cert"])[0]) == peer["name"]


def test_toml_renderer_round_trips_through_tomllib() -> None:
    document: dict[str, Any] = {
        "title": 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f é',
        "count": 3,
        "enabled": True,
        "empty": [],
        "node": {"name": "alice.example", "odd key": "x", "ports": [1, 2]},
        "deep": {"a": {"b": {"c": {"d": [{"e": 1}, {"f": "g"}], "h": {"i": {"j": 1}}}}}},
        "customers": [
            {"id": "1", "person": {"naturalPerson": {"name": {"nameIdentifier": [{"p": "S"}]}}}},
            {"id": "2", "nested": [{"list": [{"x": {"y": 1}}]}]},
        ],
        "empty_table": {},
    }
    text = render_toml(document, comment="line one\nline two")
    assert text.startswith("# line one\n# line two\n")
    assert tomllib.loads(text) == document


def test_toml_renderer_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError):
        render_toml({"ratio": 0.5})
    with pytest.raises(TypeError):
        render_toml({"mixed": [{"a": 1}, 2]})


# -- idempotence and --force ------------------------------------------------------------------


def test_second_run_keeps_every_byte(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    (directory / "alice.toml").write_text("# edited by an operator\n")
    before = snapshot(directory)
    result = init(directory)
    assert snapshot(directory) == before
    assert relative(said(result, "kept"), directory) == DEFAULT_FILES
    assert said(result, "created") == set()
    assert result.stderr == ""


def test_force_regenerates_everything(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    (directory / "alice.toml").write_text("# edited by an operator\n")
    before = snapshot(directory)
    result = init(directory, "--force")
    after = snapshot(directory)
    assert set(after) == DEFAULT_FILES
    for name in ("ca.key", "ca.pem", "alice/key.pem", "bob/key.pem", "alice/cert.pem"):
        assert after[name] != before[name], name
    assert tomllib.loads(after["alice.toml"].decode())["node"]["name"] == "alice.example"
    assert relative(said(result, "created"), directory) == DEFAULT_FILES
    for name in PRIVATE_FILES:
        assert mode(directory / name) == 0o600, name
    ca = pki.load_authority(directory)
    assert pki.issued_by(pki.load_identity(directory / "bob").certificate, ca.certificate)


def test_missing_node_is_completed_under_the_kept_ca(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    before = snapshot(directory)
    for name in ("bob/cert.pem", "bob/key.pem", "bob.toml"):
        (directory / name).unlink()
    result = init(directory)
    after = snapshot(directory)
    assert relative(said(result, "created"), directory) == {
        "bob/cert.pem",
        "bob/key.pem",
        "bob.toml",
    }
    for name in DEFAULT_FILES - {"bob/cert.pem", "bob/key.pem"}:
        assert after[name] == before[name], name
    assert after["bob/key.pem"] != before["bob/key.pem"]
    ca = pki.load_authority(directory)
    assert pki.issued_by(pki.load_identity(directory / "bob").certificate, ca.certificate)


def test_key_without_certificate_gets_a_certificate(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    key = (directory / "alice/key.pem").read_bytes()
    (directory / "alice/cert.pem").unlink()
    result = init(directory)
    assert (directory / "alice/key.pem").read_bytes() == key
    assert "alice/cert.pem" in relative(said(result, "created"), directory)
    assert "alice/key.pem" in relative(said(result, "kept"), directory)
    identity = pki.load_identity(directory / "alice")
    assert identity.common_name == "alice.example"


def test_added_node_is_reported_missing_from_kept_peers(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    result = init(directory, "--node", "alice.example", "--node", "carol.example")
    assert "carol/cert.pem" in relative(said(result, "created"), directory)
    assert "peers.toml" in relative(said(result, "kept"), directory)
    assert "does not list carol.example" in result.stderr


def test_rerun_warns_about_a_certificate_close_to_expiry(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory, "--days", "20")
    cert = pki.read_certificates(directory / "alice/cert.pem")[0]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=20)
    result = init(directory)
    assert "certificate for alice.example expires in 19 days" in result.stderr
    assert "run with --force to renew" in result.stderr


# -- refusals ------------------------------------------------------------------------------------


def test_missing_ca_with_existing_leaves_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    (directory / "ca.pem").unlink()
    (directory / "ca.key").unlink()
    before = snapshot(directory)
    result = run("certs", "init", directory, *FAST)
    assert result.returncode == 1
    assert "has no CA" in result.stderr
    assert "--force" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(directory) == before
    init(directory, "--force")
    assert set(snapshot(directory)) == DEFAULT_FILES


def test_ca_certificate_without_key_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    (directory / "ca.key").unlink()
    result = run("certs", "init", directory, *FAST)
    assert result.returncode == 1
    assert "ca.key is missing" in result.stderr


def test_certificate_without_key_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    (directory / "bob/key.pem").unlink()
    before = snapshot(directory)
    result = run("certs", "init", directory, *FAST)
    assert result.returncode == 1
    assert "bob/key.pem is missing" in result.stderr
    assert snapshot(directory) == before


def test_leaf_of_another_ca_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    other = tmp_path / "other"
    init(other)
    for name in ("alice/cert.pem", "alice/key.pem"):
        (directory / name).write_bytes((other / name).read_bytes())
    result = run("certs", "init", directory, *FAST)
    assert result.returncode == 1
    assert "was not issued by" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--node", "Bad_Name"], "is not a DNS name"),
        (["--node", "bad name.example"], "is not a DNS name"),
        (["--node", "Alice.example"], "must be lowercase"),
        (["--node", "127.0.0.1"], "looks like an IP address"),
        (["--node", "alice.example", "--node", "alice.test"], "their first labels must differ"),
        (["--node", "alice.example", "--node", "alice.example"], "is given twice"),
        (["--node", "peers.example"], "is reserved"),
        (["--key-size", "1024"], "--key-size must be at least 2048 bits"),
        (["--key-size", "many"], "invalid int value"),
        (["--days", "0"], "--days must be between 1 and 3650"),
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    directory = tmp_path / "certs"
    result = run("certs", "init", directory, *FAST, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not directory.exists()


def test_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "certs"
    target.write_text("not a folder")
    result = run("certs", "init", target, *FAST)
    assert result.returncode == 2
    assert "exists and is not a directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_text() == "not a folder"


def test_help_and_missing_subcommand() -> None:
    for args in (["certs", "--help"], ["certs", "init", "--help"]):
        result = run(*args)
        assert result.returncode == 0
        assert "usage: travelgate certs" in result.stdout
    assert "--key-size" in run("certs", "init", "--help").stdout
    bare = run("certs")
    assert bare.returncode == 2
    assert "init" in bare.stderr
    missing_dir = run("certs", "init")
    assert missing_dir.returncode == 2
    assert "DIR" in missing_dir.stderr


def test_custom_nodes(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory, "--node", "carol.example", "--node", "dave-node.test")
    files = set(snapshot(directory))
    assert {"carol/cert.pem", "dave-node/key.pem", "carol.toml", "dave-node.toml"} <= files
    assert not (directory / "alice").exists()
    dave = tomllib.loads((directory / "dave-node.toml").read_text())
    assert dave["node"]["name"] == "dave-node.test"
    assert dave["node"]["legal_name"] == "Dave Node VASP Ltd"
    assert dave["node"]["trisa_listen"] == "127.0.0.1:8101"
    assert dave["tls"]["cert"] == "dave-node/cert.pem"
    assert dave["customers"][0]["id"] == "dave-node-cust-1"
    peers = tomllib.loads((directory / "peers.toml").read_text())["peer"]
    assert [p["name"] for p in peers] == ["carol.example", "dave-node.test"]
    assert pki.load_identity(directory / "dave-node").dns_names == ["dave-node.test"]


def _listeners(directory: Path) -> dict[str, tuple[str, str]]:
    configs = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name != "peers.toml":
            node = tomllib.loads(path.read_text())["node"]
            configs[node["name"]] = (node["trisa_listen"], node["api_listen"])
    return configs


def test_other_node_names_get_their_own_ports(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory)
    result = init(directory, "--node", "carol.example", "--node", "dave.example")
    init(directory, "--node", "alice.example", "--node", "erin.example")
    listeners = _listeners(directory)
    assert set(listeners) == {
        "alice.example",
        "bob.example",
        "carol.example",
        "dave.example",
        "erin.example",
    }
    trisa = [pair[0] for pair in listeners.values()]
    api = [pair[1] for pair in listeners.values()]
    assert len(set(trisa)) == len(trisa) == 5
    assert len(set(api)) == len(api) == 5
    assert set(trisa) & set(api) == set()
    # The defaults keep their places; added nodes take the next free pair.
    assert listeners["alice.example"] == ("127.0.0.1:8100", "127.0.0.1:8000")
    assert listeners["bob.example"] == ("127.0.0.1:8101", "127.0.0.1:8001")
    assert listeners["carol.example"] == ("127.0.0.1:8102", "127.0.0.1:8002")
    assert listeners["dave.example"] == ("127.0.0.1:8103", "127.0.0.1:8003")
    assert listeners["erin.example"] == ("127.0.0.1:8104", "127.0.0.1:8004")
    # The kept peers.toml does not list the new nodes: the warning says where they listen.
    assert "carol.example at 127.0.0.1:8102" in result.stderr


def test_a_node_written_again_keeps_its_ports(tmp_path: Path) -> None:
    directory = tmp_path / "certs"
    init(directory, "--node", "carol.example", "--node", "dave.example")
    before = (directory / "dave.toml").read_bytes()
    (directory / "dave.toml").unlink()
    init(directory, "--node", "carol.example", "--node", "dave.example")
    assert (directory / "dave.toml").read_bytes() == before
    forced = init(directory, "--node", "dave.example", "--force")
    assert forced.returncode == 0
    # carol.toml stays (not listed), so dave must not move onto her ports.
    listeners = _listeners(directory)
    assert listeners["dave.example"] != listeners["carol.example"]


# -- the generated identities work for grpcio mTLS ---------------------------------------------


PROBE_SERVICE = "travelgate.test.Probe"


@asynccontextmanager
async def mtls_server(identity_dir: Path, trust: bytes) -> AsyncIterator[tuple[int, list[str]]]:
    """A grpc.aio server requiring client certificates; yields its port and the seen CNs."""
    identity = pki.load_identity(identity_dir)
    seen: list[str] = []

    async def report_caller(
        request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        common_names = list(context.auth_context()["x509_common_name"])
        seen.append(common_names[0].decode("ascii"))
        return common_names[0]

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                PROBE_SERVICE, {"WhoAmI": grpc.unary_unary_rpc_method_handler(report_caller)}
            ),
        )
    )
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    credentials = grpc.ssl_server_credentials(
        [(identity.key_pem, identity.chain_pem)], root_certificates=trust, require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    try:
        yield port, seen
    finally:
        await server.stop(None)


def who_am_i(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    """The probe method with raw bytes in and out (no protobuf needed)."""
    method: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        f"/{PROBE_SERVICE}/WhoAmI"
    )
    return method


def client_channel(
    port: int, server_name: str, trust: bytes, identity: pki.Identity | None
) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=trust,
        private_key=identity.key_pem if identity else None,
        certificate_chain=identity.chain_pem if identity else None,
    )
    return grpc.aio.secure_channel(
        f"127.0.0.1:{port}",
        credentials,
        options=[("grpc.ssl_target_name_override", server_name)],
    )


async def test_generated_identities_work_for_grpc_mtls(pki_dir: Path) -> None:
    trust = (pki_dir / "ca.pem").read_bytes()
    bob = pki.load_identity(pki_dir / "bob")
    async with (
        mtls_server(pki_dir / "alice", trust) as (port, seen),
        client_channel(port, "alice.example", trust, bob) as channel,
    ):
        assert await who_am_i(channel)(b"", timeout=RPC_TIMEOUT) == b"bob.example"
        assert seen == ["bob.example"]
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=RPC_TIMEOUT
        )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_client_from_another_ca_is_refused(pki_dir: Path) -> None:
    trust = (pki_dir / "ca.pem").read_bytes()
    stranger_ca = pki.make_authority("stranger CA", key_size=2048)
    stranger = pki.issue_identity(stranger_ca, "bob.example", key_size=2048)
    async with (
        mtls_server(pki_dir / "alice", trust) as (port, seen),
        client_channel(port, "alice.example", trust, stranger) as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await who_am_i(channel)(b"", timeout=RPC_TIMEOUT)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        assert seen == []


async def test_client_without_certificate_is_refused(pki_dir: Path) -> None:
    trust = (pki_dir / "ca.pem").read_bytes()
    async with (
        mtls_server(pki_dir / "alice", trust) as (port, seen),
        client_channel(port, "alice.example", trust, None) as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await who_am_i(channel)(b"", timeout=RPC_TIMEOUT)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        assert seen == []
