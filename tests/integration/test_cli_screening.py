"""`travelgate screening import|lists|check` as real subprocesses, and lists loaded at start."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from unit.screening._files import BILLION_LAUGHS, BTC_LISTED, EVM_LISTED, sdn_xml

from support.nodes import ALICE, Cluster, TestPki, two_node_specs, write_config, write_peers
from support.processes import NodeProcess, run_cli
from travelgate.screening import Screener

CONFIG = """
[node]
name = "alice.example"
legal_name = "Alice VASP Ltd"
country = "GB"
database = "alice.db"

[tls]
cert = "cert.pem"
key = "key.pem"
trust = "ca.pem"

[storage]
key_file = "alice.key"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "alice.toml"
    path.write_text(CONFIG)
    return path


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode()


def test_import_a_csv_then_check_and_list(config: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "eu.csv"
    csv_file.write_text(
        f"address,asset,list,reference\n{BTC_LISTED},BTC,EU,Reg 2026/1\n{EVM_LISTED},ETH,EU,Reg 2026/2\n"
    )
    done = run_cli("screening", "import", "--config", str(config), str(csv_file))
    assert done.returncode == 0, done.stderr.decode()
    assert _out(done) == "loaded 2 addresses into EU\n"

    listed = run_cli(
        "screening", "check", "--config", str(config), EVM_LISTED.lower(), "--asset", "usdt"
    )
    assert listed.returncode == 1
    result = json.loads(listed.stdout)
    assert result["listed"] is True
    assert result["asset"] == "USDT"
    assert result["hits"] == [
        {"list": "EU", "address": EVM_LISTED, "asset": "ETH", "reference": "Reg 2026/2"}
    ]
    clean = run_cli("screening", "check", "--config", str(config), "bc1qclean")
    assert clean.returncode == 0
    assert json.loads(clean.stdout)["listed"] is False

    lists = run_cli("screening", "lists", "--config", str(config))
    assert lists.returncode == 0
    (entry,) = json.loads(lists.stdout)
    assert (entry["name"], entry["entries"], entry["format"]) == ("EU", 2, "csv")


def test_import_the_ofac_xml_under_a_chosen_list_and_reload_it(
    config: Path, tmp_path: Path
) -> None:
    xml_file = tmp_path / "sdn_latest.dat"
    xml_file.write_text(sdn_xml())
    done = run_cli(
        "screening", "import", "--config", str(config), str(xml_file),
        "--format", "ofac-sdn-xml", "--list", "US-SDN",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert _out(done) == "loaded 4 addresses into US-SDN\n"

    smaller = tmp_path / "one.csv"
    smaller.write_text(f"{BTC_LISTED},BTC,,x\n")
    again = run_cli(
        "screening", "import", "--config", str(config), str(smaller), "--list", "US-SDN"
    )
    assert _out(again) == "loaded 1 address into US-SDN\n"
    with sqlite3.connect(tmp_path / "alice.db") as db:
        assert db.execute("SELECT count(*) FROM screening_entries").fetchone()[0] == 1
        actions = db.execute(
            "SELECT actor, action FROM audit WHERE subject = 'screening_list:US-SDN'"
        ).fetchall()
    assert actions == [("cli", "screening.list_replaced")] * 2


def test_a_hostile_xml_file_is_refused_and_changes_nothing(config: Path, tmp_path: Path) -> None:
    good = tmp_path / "sdn.xml"
    good.write_text(sdn_xml())
    assert run_cli("screening", "import", "--config", str(config), str(good)).returncode == 0
    evil = tmp_path / "evil.xml"
    evil.write_text(BILLION_LAUGHS)
    done = run_cli("screening", "import", "--config", str(config), str(evil))
    assert done.returncode == 1
    stderr = done.stderr.decode()
    assert "refused unsafe XML" in stderr
    assert "Traceback" not in stderr
    assert done.stdout == b""
    check = run_cli("screening", "check", "--config", str(config), BTC_LISTED)
    assert json.loads(check.stdout)["listed"] is True


def test_usage_errors_exit_2_and_bad_rows_exit_1(config: Path, tmp_path: Path) -> None:
    missing = run_cli("screening", "import", "--config", str(config), str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "list file not found" in missing.stderr.decode()
    bad_format = run_cli("screening", "import", "--config", str(config), "x", "--format", "json")
    assert bad_format.returncode == 2
    bare = run_cli("screening")
    assert bare.returncode == 2
    rows = tmp_path / "bad.csv"
    rows.write_text(f"{BTC_LISTED},BTC,EU,r\nnot an address,BTC,EU,r\n")
    done = run_cli("screening", "import", "--config", str(config), str(rows))
    assert done.returncode == 1
    assert "line 2" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    bad_name = run_cli(
        "screening", "import", "--config", str(config), str(rows), "--list", "no spaces"
    )
    assert bad_name.returncode == 1
    assert "list name" in bad_name.stderr.decode()


async def test_configured_lists_are_loaded_when_the_node_starts(
    cluster: Cluster, tmp_path: Path
) -> None:
    sdn = tmp_path / "sdn.xml"
    sdn.write_text(sdn_xml())
    alice, _bob = two_node_specs()
    alice.extra = {"screening": {"lists": [str(sdn)]}}
    await cluster.start(alice)
    gateway = cluster.nodes[ALICE].gateway
    result = await Screener(gateway.db).screen(EVM_LISTED.lower(), "ETH", "ethereum")
    assert [hit.list for hit in result.hits] == ["OFAC-SDN", "OFAC-SDN"]
    trail = await gateway.db.read(lambda tx: tx.audit_of("screening_list:OFAC-SDN"))
    assert [(entry["actor"], entry["detail"]["entries"]) for entry in trail] == [("config", 4)]


def test_a_node_whose_configured_list_cannot_load_does_not_start(
    test_pki: TestPki, tmp_path: Path
) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_text(BILLION_LAUGHS)
    alice, _bob = two_node_specs()
    alice.extra = {"screening": {"lists": [str(evil)]}}
    write_peers(test_pki.root, [ALICE])
    path = write_config(test_pki, alice, database=tmp_path / "alice.db")
    node = NodeProcess("serve", "--config", str(path))
    try:
        code = node.process.wait(timeout=60)
    finally:
        node.stop_quietly()
    assert code == 1
    assert "[screening] lists" in "\n".join(node.lines)
    assert "refused unsafe XML" in "\n".join(node.lines)
    assert "Traceback" not in "\n".join(node.lines)
