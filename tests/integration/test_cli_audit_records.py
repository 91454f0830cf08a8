"""`travelgate audit verify|export` and `travelgate records export|verify` as real
subprocesses, against the databases of two real nodes that exchanged a transfer."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from support.api import Api, withdrawal
from support.nodes import ALICE, BOB, BOB_ADDRESS, Cluster, two_node_specs
from support.processes import run_cli
from travelgate.audit import AuditKey, AuditRecord, digest_of, load_or_create_audit_key
from travelgate.audit._bundle import canonical_manifest

FAR_FUTURE = "2999-01-01T00:00:00.000000Z"


class Exchanged:
    """Two nodes after one cleared withdrawal and one canceled with a reason."""

    def __init__(self, cluster: Cluster, cleared: str, canceled: str) -> None:
        self.cluster = cluster
        self.cleared = cleared
        self.canceled = canceled
        self.alice = cluster.pki.root / f"{ALICE}.toml"
        self.bob = cluster.pki.root / f"{BOB}.toml"


@pytest.fixture
async def exchanged(cluster: Cluster) -> Exchanged:
    await cluster.start(*two_node_specs())
    api = await Api.connect(cluster.nodes[ALICE])
    try:
        _status, first = await api.create(withdrawal())
        await api.wait_state(first["id"], "cleared")
        _status, second = await api.create(withdrawal(amount="0.25"))
        await api.wait_state(second["id"], "cleared")
        status, _ = await api.call(
            "POST",
            f"/v1/withdrawals/{second['id']}/cancel",
            {"reason": "Alice Smith asked us to stop"},
        )
        assert status == 200
    finally:
        await api.close()
    return Exchanged(cluster, first["id"], second["id"])


def _database(config: Path) -> Path:
    from travelgate.config import load_config

    database = load_config(config).node.database
    assert isinstance(database, Path)  # these tests tamper with a SQLite file
    return database


def _audit_key(config: Path) -> AuditKey:
    from travelgate.config import load_config

    return load_or_create_audit_key(load_config(config).storage.audit_key_file)


def _verify(config: Path) -> tuple[int, str, str]:
    done = run_cli("audit", "verify", "--config", str(config))
    return done.returncode, done.stdout.decode(), done.stderr.decode()


# -- the audit trail -----------------------------------------------------------------


async def test_the_trail_verifies_and_exports_with_the_public_key(
    exchanged: Exchanged, tmp_path: Path
) -> None:
    code, out, err = _verify(exchanged.alice)
    assert code == 0, err
    count = int(out.split()[0])
    assert out == f"{count} records, chain intact\n"
    assert count >= 5

    key = _audit_key(exchanged.alice)
    done = run_cli(
        "audit",
        "export",
        "--config",
        str(exchanged.alice),
        "--from",
        "2000-01-01",
        "--to",
        "2999-01-01T00:00:00Z",
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(lines) == count
    assert {line["public_key"] for line in lines} == {key.public_key_text}
    actions = [line["action"] for line in lines]
    assert "node.started" in actions
    assert "hold.created" in actions
    for line in lines:
        record = AuditRecord.from_json(line)
        assert digest_of(record) == record.hash
    # The reason a person typed is sealed apart: the trail holds a reference.
    assert "Alice Smith" not in done.stdout.decode()
    # The export is itself an audit record.
    code, out, _err = _verify(exchanged.alice)
    assert (code, out) == (0, f"{count + 1} records, chain intact\n")


async def test_a_window_with_nothing_in_it_exports_nothing(exchanged: Exchanged) -> None:
    done = run_cli(
        "audit",
        "export",
        "--config",
        str(exchanged.alice),
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-02",
    )
    assert (done.returncode, done.stdout) == (0, b"")
    bad = run_cli("audit", "export", "--config", str(exchanged.alice), "--from", "yesterday")
    assert bad.returncode == 2
    assert "--from must be a date" in bad.stderr.decode()


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        ("changed", "record 3 ("),
        ("removed", "record 3 is missing"),
        ("reordered", "record 3"),
    ],
)
async def test_a_tampered_record_fails_verification_by_name(
    exchanged: Exchanged, tmp_path: Path, tamper: str, named: str
) -> None:
    await exchanged.cluster.stop()
    database = _database(exchanged.alice)
    with sqlite3.connect(database) as connection:
        if tamper == "changed":
            connection.execute("UPDATE audit SET actor = 'nobody' WHERE id = 3")
        elif tamper == "removed":
            connection.execute("DELETE FROM audit WHERE id = 3")
        else:
            connection.execute("UPDATE audit SET id = -3 WHERE id = 3")
            connection.execute("UPDATE audit SET id = 3 WHERE id = 4")
            connection.execute("UPDATE audit SET id = 4 WHERE id = -3")
    code, out, err = _verify(exchanged.alice)
    assert code == 1
    assert out == ""
    assert named in err.strip().splitlines()[-1]
    assert "Traceback" not in err


async def test_verify_refuses_a_missing_key_rather_than_making_one(
    exchanged: Exchanged,
) -> None:
    await exchanged.cluster.stop()
    from travelgate.config import load_config

    key_file = load_config(exchanged.alice).storage.audit_key_file
    key_file.rename(key_file.with_suffix(".moved"))
    code, _out, err = _verify(exchanged.alice)
    assert code == 1
    assert "audit_key_file" in err
    assert not key_file.exists()


# -- records exports -----------------------------------------------------------------


def _export(config: Path, out: Path, *selection: str, case: str = "LE-2026-001") -> str:
    done = run_cli(
        "records",
        "export",
        "--config",
        str(config),
        *selection,
        "--case",
        case,
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def _rezip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)


def _records_verify(path: Path, *options: str) -> tuple[int, str, str]:
    done = run_cli("records", "verify", str(path), *options)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_a_withdrawal_export_holds_every_record_and_verifies(
    exchanged: Exchanged, tmp_path: Path
) -> None:
    out = tmp_path / "case.zip"
    printed = _export(exchanged.alice, out, "--customer", "cust-1", "--hold", exchanged.cleared)
    assert "2 withdrawals, 0 deposits, 0 purged" in printed
    assert out.stat().st_mode & 0o777 == 0o600
    members = _members(out)
    assert set(members) == {"manifest.json", "records.json", "records.csv", "audit.jsonl"}
    manifest = json.loads(members["manifest.json"])
    key = _audit_key(exchanged.alice)
    assert manifest["case"] == "LE-2026-001"
    assert manifest["audit_public_key"] == key.public_key_text
    assert manifest["selection"]["customers"] == ["cust-1"]
    assert manifest["exported_by"]["actor"] == "operator"
    assert set(manifest["files"]) == {"records.json", "records.csv", "audit.jsonl"}

    records = json.loads(members["records.json"])
    cleared = next(h for h in records["holds"] if h["withdrawal"]["id"] == exchanged.cleared)
    envelopes = cleared["conversations"][0]["envelopes"]
    assert {e["direction"] for e in envelopes} == {"out", "in"}
    assert all(e["payload_status"] == "decrypted" for e in envelopes), envelopes
    sent = next(e for e in envelopes if e["direction"] == "out")
    assert "Smith" in json.dumps(sent["payload"])
    canceled = next(h for h in records["holds"] if h["withdrawal"]["id"] == exchanged.canceled)
    assert canceled["withdrawal"]["state"] == "canceled"
    assert "Alice Smith asked us to stop" in records["audit_notes"].values()

    rows = list(csv.DictReader(io.StringIO(members["records.csv"].decode())))
    assert len(rows) == 2
    row = next(r for r in rows if r["id"] == exchanged.cleared)
    assert row["kind"] == "withdrawal"
    assert row["originator_name"] == "Alice Smith"
    assert row["beneficiary_name"] == "Bob Jones"
    assert row["beneficiary_account"] == BOB_ADDRESS
    assert (row["asset"], row["amount"], row["value"], row["value_currency"]) == (
        "BTC",
        "0.5",
        "31000.00",
        "USD",
    )
    assert row["originator_vasp"]
    assert row["beneficiary_vasp"]

    trail = [json.loads(line) for line in members["audit.jsonl"].decode().splitlines()]
    assert {line["subject"] for line in trail} >= {
        f"hold:{exchanged.cleared}",
        f"hold:{exchanged.canceled}",
    }

    code, stdout, stderr = _records_verify(out, "--public-key", key.public_key_text)
    assert code == 0, stderr
    assert "manifest signature holds" in stdout
    assert "every SHA-256 holds" in stdout
    # The export is an audit record, and the chain still holds.
    done = run_cli("audit", "export", "--config", str(exchanged.alice))
    exported = [json.loads(line) for line in done.stdout.decode().splitlines()]
    record = next(r for r in exported if r["seq"] == manifest["audit_record"]["seq"])
    assert (record["action"], record["subject"]) == ("records.exported", "case:LE-2026-001")
    assert record["hash"] == manifest["audit_record"]["hash"]
    assert _verify(exchanged.alice)[0] == 0
    # An export never overwrites a file.
    again = run_cli(
        "records",
        "export",
        "--config",
        str(exchanged.alice),
        "--hold",
        exchanged.cleared,
        "--case",
        "X",
        "--out",
        str(out),
    )
    assert again.returncode == 2
    assert "exists" in again.stderr.decode()


async def test_a_deposit_export_decrypts_what_we_received(
    exchanged: Exchanged, tmp_path: Path
) -> None:
    out = tmp_path / "bob.zip"
    printed = _export(exchanged.bob, out, "--address", BOB_ADDRESS, "--from", "2020-01-01")
    assert "0 withdrawals, 2 deposits" in printed
    members = _members(out)
    records = json.loads(members["records.json"])
    deposit = records["deposits"][0]
    received = [e for e in deposit["conversation"]["envelopes"] if e["direction"] == "in"]
    assert received
    assert received[0]["payload_status"] == "decrypted"
    rows = list(csv.DictReader(io.StringIO(members["records.csv"].decode())))
    assert {r["kind"] for r in rows} == {"deposit"}
    assert rows[0]["originator_name"] == "Alice Smith"
    assert rows[0]["beneficiary_account"] == BOB_ADDRESS
    assert _records_verify(out)[0] == 0


async def test_purged_and_unknown_records_are_reported_not_left_out(
    exchanged: Exchanged, tmp_path: Path
) -> None:
    db = exchanged.cluster.nodes[ALICE].gateway.db
    counts = await db.write(lambda tx: tx.purge(FAR_FUTURE))
    assert counts["holds"] == 1  # the canceled hold; the cleared one is still open
    out = tmp_path / "purged.zip"
    _export(
        exchanged.alice,
        out,
        "--hold",
        exchanged.canceled,
        "--hold",
        "no-such-hold",
        "--customer",
        "cust-1",
    )
    records = json.loads(_members(out)["records.json"])
    purged = {entry["id"]: entry for entry in records["purged"]}
    assert purged[exchanged.canceled]["status"] == "purged after the retention period"
    assert purged[exchanged.canceled]["audit_seq"] >= 1
    assert purged["no-such-hold"]["status"].startswith("not found")
    assert [h["withdrawal"]["id"] for h in records["holds"]] == [exchanged.cleared]
    assert _records_verify(out)[0] == 0
    assert _verify(exchanged.alice)[0] == 0


@pytest.mark.parametrize(
    "tamper",
    [
        "changed file",
        "changed manifest",
        "bad signature",
        "added file",
        "removed file",
        "other signer",
    ],
)
async def test_a_tampered_export_fails_verification(
    exchanged: Exchanged, tmp_path: Path, tamper: str
) -> None:
    out = tmp_path / "case.zip"
    _export(exchanged.alice, out, "--hold", exchanged.cleared)
    members = _members(out)
    manifest: dict[str, Any] = json.loads(members["manifest.json"])
    expected = "records.csv: SHA-256 differs"
    if tamper == "changed file":
        members["records.csv"] = members["records.csv"].replace(b"0.5", b"0.6")
    elif tamper == "changed manifest":
        manifest["case"] = "LE-2026-999"
        members["manifest.json"] = json.dumps(manifest).encode()
        expected = "the signature does not hold"
    elif tamper == "bad signature":
        signature = bytearray(bytes.fromhex(manifest["signature"]))
        signature[0] ^= 1
        manifest["signature"] = signature.hex()
        members["manifest.json"] = json.dumps(manifest).encode()
        expected = "the signature does not hold"
    elif tamper == "added file":
        members["extra.txt"] = b"hello"
        expected = "extra.txt: in the zip but not in the manifest"
    elif tamper == "removed file":
        del members["audit.jsonl"]
        expected = "audit.jsonl: listed in the manifest but missing"
    else:
        # Someone re-signs a changed bundle with a key of their own: it holds only against
        # itself, and fails against the node's published key.
        forger = AuditKey(b"f" * 32)
        members["records.csv"] = members["records.csv"].replace(b"0.5", b"0.6")
        manifest["files"]["records.csv"]["sha256"] = (
            __import__("hashlib").sha256(members["records.csv"]).hexdigest()
        )
        manifest["audit_public_key"] = forger.public_key_text
        manifest["signature"] = forger.sign(canonical_manifest(manifest)).hex()
        members["manifest.json"] = json.dumps(manifest).encode()
        expected = "not the expected"
    tampered = tmp_path / "tampered.zip"
    _rezip(tampered, members)
    key = _audit_key(exchanged.alice).public_key_text
    code, stdout, stderr = _records_verify(tampered, "--public-key", key)
    assert code == 1, stdout
    assert expected in stderr
    assert "Traceback" not in stderr


async def test_records_verify_of_something_that_is_not_a_zip(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    code, _stdout, stderr = _records_verify(junk)
    assert code == 1
    assert "not a zip archive" in stderr
    bad_key = run_cli("records", "verify", str(junk), "--public-key", "rsa:abc")
    assert bad_key.returncode == 2


async def test_records_export_needs_a_selection_and_a_case(
    exchanged: Exchanged, tmp_path: Path
) -> None:
    out = str(tmp_path / "x.zip")
    none = run_cli(
        "records", "export", "--config", str(exchanged.alice), "--case", "C", "--out", out
    )
    assert none.returncode == 2
    assert "select something" in none.stderr.decode()
    no_case = run_cli(
        "records", "export", "--config", str(exchanged.alice), "--hold", "h", "--out", out
    )
    assert no_case.returncode == 2
