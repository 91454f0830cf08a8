"""Lists in a real SQLite store: import, screen, atomic and audited replacement, the policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from support.stores import StoreFactory
from travelgate.config import ScreeningSection
from travelgate.screening import (
    LIST_REPLACED,
    LISTED,
    PROVIDER_FAILED,
    PROVIDER_RISK,
    FailureKind,
    ProviderFailure,
    ProviderVerdict,
    Risk,
    Screener,
    ScreeningListError,
    import_list_file,
    load_configured_lists,
    read_list_file,
    replace_lists,
    screen,
    screening_decision,
)
from travelgate.store import Store, Tx
from travelgate.transfers import Action

from ._files import BTC_LISTED, EVM_LISTED, XMR_LISTED, sdn_xml, write


@pytest.fixture
async def db(stores: StoreFactory) -> AsyncIterator[Store]:
    database = await stores.open()
    try:
        yield database
    finally:
        await database.close()


async def test_an_imported_sdn_list_screens_addresses_per_network_rules(
    db: Store, tmp_path: Path
) -> None:
    result = await import_list_file(db, write(tmp_path, "sdn.xml", sdn_xml()))
    assert result.counts == {"OFAC-SDN": 4}
    assert result.summary() == "loaded 4 addresses into OFAC-SDN"
    screener = Screener(db)

    evm = await screener.screen(EVM_LISTED.lower(), "USDC", "ethereum")
    assert evm.listed
    assert {(hit.asset, hit.reference) for hit in evm.hits} == {
        ("ETH", "SDN uid 30518: LAZARUS GROUP"),
        ("USDT", "SDN uid 30519: Ivan PETROV"),
    }
    assert (await screener.screen(EVM_LISTED.upper().replace("0X", "0x"), "ETH", "ethereum")).listed
    assert (await screener.screen(BTC_LISTED, "BTC", "bitcoin")).listed
    assert (await screener.screen(BTC_LISTED.upper(), "BTC", "bitcoin")).listed
    assert (await screener.screen(XMR_LISTED, "XMR", "monero")).listed
    assert not (await screener.screen(XMR_LISTED.lower(), "XMR", "monero")).listed
    clean = await screener.screen("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "BTC", "bitcoin")
    assert not clean.listed
    assert clean.to_json() == {
        "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        "asset": "BTC",
        "network": "bitcoin",
        "listed": False,
        "hits": [],
    }


async def test_a_reload_replaces_the_list_and_is_audited(db: Store, tmp_path: Path) -> None:
    await import_list_file(db, write(tmp_path, "v1.csv", f"{BTC_LISTED},BTC,EU,r1\n"))
    await import_list_file(db, write(tmp_path, "other.csv", f"{XMR_LISTED},XMR,UK,u1\n"))
    second = await import_list_file(db, write(tmp_path, "v2.csv", f"{EVM_LISTED},ETH,EU,r2\n"))
    assert second.counts == {"EU": 1}
    screener = Screener(db)
    assert not (await screener.screen(BTC_LISTED, "BTC", "bitcoin")).listed
    assert (await screener.screen(EVM_LISTED, "ETH", "ethereum")).listed
    assert (await screener.screen(XMR_LISTED, "XMR", "monero")).listed  # other lists untouched
    trail = await db.read(lambda tx: tx.audit_of("screening_list:EU"))
    assert [entry["action"] for entry in trail] == [LIST_REPLACED, LIST_REPLACED]
    assert trail[1]["actor"] == "cli"
    assert trail[1]["detail"]["entries"] == 1
    assert trail[1]["detail"]["previous_entries"] == 1
    assert trail[1]["detail"]["source"].endswith("v2.csv")
    lists = await db.read(lambda tx: tx.screening_lists())
    assert [(item.name, item.entries, item.format) for item in lists] == [
        ("EU", 1, "csv"),
        ("UK", 1, "csv"),
    ]


async def test_a_refused_file_changes_nothing(db: Store, tmp_path: Path) -> None:
    await import_list_file(db, write(tmp_path, "v1.csv", f"{BTC_LISTED},BTC,EU,r1\n"))
    bad = write(tmp_path, "v2.csv", f"{EVM_LISTED},ETH,EU,r2\nbad row here,ETH,EU,r3\n")
    with pytest.raises(ScreeningListError, match="line 2"):
        await import_list_file(db, bad)
    assert (await Screener(db).screen(BTC_LISTED, "BTC", "bitcoin")).listed
    assert not (await Screener(db).screen(EVM_LISTED, "ETH", "ethereum")).listed
    assert len(await db.read(lambda tx: tx.audit_of("screening_list:EU"))) == 1


async def test_a_reader_sees_the_whole_old_list_until_the_new_one_commits(
    db: Store, stores: StoreFactory, tmp_path: Path
) -> None:
    old_rows = "".join(f"old-{n},BTC,EU,r\n" for n in range(500))
    new_rows = "".join(f"new-{n},BTC,EU,r\n" for n in range(700))
    await import_list_file(db, write(tmp_path, "old.csv", old_rows))
    parsed = read_list_file(write(tmp_path, "new.csv", new_rows))
    seen_during: list[tuple[int, int]] = []

    def replace_and_look_from_outside(tx: Tx) -> None:
        replace_lists(tx, parsed, actor="test")
        # Another connection (as another process would) while the replacement is uncommitted.
        seen_during.append(_old_and_new(stores))

    await db.write(replace_and_look_from_outside)
    assert seen_during == [(500, 0)]
    assert _old_and_new(stores) == (0, 700)


def _old_and_new(stores: StoreFactory) -> tuple[int, int]:
    count = "SELECT count(*) FROM screening_entries WHERE list = 'EU' AND address LIKE ?"
    return (stores.sql("a", count, ("old-%",))[0][0], stores.sql("a", count, ("new-%",))[0][0])


async def test_configured_lists_load_at_start_and_an_unchanged_file_is_not_reloaded(
    db: Store, tmp_path: Path
) -> None:
    files = [
        write(tmp_path, "sdn.xml", sdn_xml()),
        write(tmp_path, "internal.csv", f"{XMR_LISTED},XMR,INTERNAL,case 7\n"),
    ]
    first = await load_configured_lists(db, files)
    assert [(r.counts, r.unchanged) for r in first] == [
        ({"OFAC-SDN": 4}, False),
        ({"INTERNAL": 1}, False),
    ]
    again = await load_configured_lists(db, files)
    assert [(r.counts, r.unchanged) for r in again] == [
        ({"OFAC-SDN": 4}, True),
        ({"INTERNAL": 1}, True),
    ]
    trail = await db.read(lambda tx: tx.audit_of("screening_list:OFAC-SDN"))
    assert [entry["actor"] for entry in trail] == ["config"]
    write(
        tmp_path, "internal.csv", f"{XMR_LISTED},XMR,INTERNAL,case 7\n{BTC_LISTED},BTC,INTERNAL,8\n"
    )
    third = await load_configured_lists(db, files)
    assert [(r.counts, r.unchanged) for r in third][1] == ({"INTERNAL": 2}, False)


async def test_screen_runs_inside_a_callers_transaction(db: Store, tmp_path: Path) -> None:
    await import_list_file(db, write(tmp_path, "l.csv", f"{EVM_LISTED},ETH,EU,r\n"))
    result = await db.read(lambda tx: screen(tx, EVM_LISTED.lower(), "ETH", "ethereum"))
    assert [hit.list for hit in result.hits] == ["EU"]


async def test_the_policy_maps_hits_risks_and_failures(db: Store, tmp_path: Path) -> None:
    await import_list_file(db, write(tmp_path, "l.csv", f"{EVM_LISTED},ETH,EU,Reg 1\n"))
    listed = await Screener(db).screen(EVM_LISTED, "ETH", "ethereum")
    clean = await Screener(db).screen(BTC_LISTED, "BTC", "bitcoin")
    default = ScreeningSection()

    hit = screening_decision(default, listed)
    assert (hit.action, hit.code) == (Action.REJECT, LISTED)
    assert (hit.detail["list"], hit.detail["reference"]) == ("EU", "Reg 1")
    assert screening_decision(ScreeningSection(on_hit="review"), listed).action is Action.REVIEW

    assert screening_decision(default, clean).action is None
    severe = ProviderVerdict(Risk.SEVERE, ("sanctions",))
    high = ProviderVerdict(Risk.HIGH, ("mixer",))
    low = ProviderVerdict(Risk.LOW, ())
    assert (
        screening_decision(default, clean, severe).action,
        screening_decision(default, clean, severe).code,
    ) == (Action.REJECT, PROVIDER_RISK)
    assert screening_decision(default, clean, high).action is Action.REVIEW
    assert screening_decision(default, clean, low).action is None

    failure = ProviderFailure(FailureKind.TIMEOUT, "no answer within 2s")
    closed = screening_decision(default, clean, failure)
    assert (closed.action, closed.code) == (Action.REVIEW, PROVIDER_FAILED)
    assert closed.detail == {"failure": "timeout", "message": "no answer within 2s"}
    assert screening_decision(ScreeningSection(fail_open=True), clean, failure).action is None
    # The strictest outcome wins: a listed address is rejected whatever the provider says.
    assert screening_decision(default, listed, failure).code == LISTED
