"""Fuzz the TOML configuration: the node config (with its policy) and the peers file.

Any bytes in the file and any TRAVELGATE_* value end in a loaded config or a ConfigError
that names the problem; what loads is usable (finite, bounded numbers). The TOML writer
is a codec: what it renders reads back with tomllib as the same document.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from travelgate._toml import render_toml
from travelgate.config import _SCHEMA, MAX_INTEGER, MAX_SECONDS, Config, load_config
from travelgate.errors import ConfigError
from travelgate.transfers import parse_policy
from travelgate.trisa._directory import Directory

from ._harness import FUZZ, mutated, only, seed_ids, seeds, time_bound

CONFIG_SEEDS = seeds("config")
PEER_SEEDS = seeds("peers")
CONFIG_CORPUS = [path.read_bytes() for path in CONFIG_SEEDS]
PEER_CORPUS = [path.read_bytes() for path in PEER_SEEDS]
MINIMAL = (Path(__file__).parent / "corpus" / "config" / "minimal.toml").read_text()


def _usable(config: Config) -> None:
    """What loads is in range: no nan, no infinity, no integer a C option cannot hold."""
    for section in (config.trisa, config.api, config.outbox, config.node, config.storage):
        for value in vars(section).values():
            if isinstance(value, float):
                assert math.isfinite(value)
                assert 0 < value <= MAX_SECONDS
            elif isinstance(value, int) and not isinstance(value, bool):
                assert abs(value) <= MAX_INTEGER
    assert config.storage.retention.total_seconds() <= MAX_SECONDS


def _load(folder: Path, data: bytes, env: dict[str, str] | None = None) -> None:
    path = folder / "node.toml"
    path.write_bytes(data)
    with only(ConfigError):
        config = load_config(path, env=env or {})
        _usable(config)
        parse_policy(config.policy)


def _load_peers(folder: Path, data: bytes) -> None:
    path = folder / "peers.toml"
    path.write_bytes(data)
    with only(ConfigError):
        Directory.load(path)


@FUZZ
@given(mutated(CONFIG_CORPUS))
def test_config_bytes_load_or_give_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    _load(tmp_path_factory.mktemp("config"), data)


# -- values of every key, written as TOML literals ------------------------------------------

TOML_LITERALS = st.one_of(
    st.integers().map(str),
    st.sampled_from(["9" * 5000, "inf", "-inf", "nan", "1e400", "0", "-1", "0x7fffffffffffffff"]),
    st.floats().map(lambda f: "nan" if math.isnan(f) else repr(f).replace("inf", "inf")),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=30).map(
        lambda t: '"' + t.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    ),
    st.sampled_from(
        [
            '"1e400"',
            '"99999999999999y"',
            '"nan"',
            '"-5m"',
            '"127.0.0.1:\u0661\u0662"',
            '"[zz]:1"',
            '"\\u0000"',
            '"http://x"',
            "1979-05-27T07:32:00Z",
            "[]",
            "{}",
            '["a", 1]',
        ]
    ),
)


@st.composite
def config_documents(draw: st.DrawFn) -> bytes:
    lines = [MINIMAL]
    for section in draw(st.lists(st.sampled_from(sorted(_SCHEMA)), max_size=3, unique=True)):
        lines.append(f"[{section}]")
        keys = sorted(_SCHEMA[section])
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            lines.append(f"{key} = {draw(TOML_LITERALS)}")
    return "\n".join(lines).replace("[node]\n", "[node]\n", 1).encode()


@FUZZ
@given(config_documents())
def test_every_key_takes_any_value_or_gives_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    _load(tmp_path_factory.mktemp("config"), data)


ENV_KEYS = sorted(f"TRAVELGATE_{s}_{k}".upper() for s, keys in _SCHEMA.items() for k in keys)


@FUZZ
@given(st.dictionaries(st.sampled_from(ENV_KEYS), st.text(max_size=30), max_size=4))
@example({"TRAVELGATE_TRISA_KEY_TTL": "1e400"})
@example({"TRAVELGATE_TRISA_MAX_CONCURRENT_RPCS": "\u0661\u0662"})
@example({"TRAVELGATE_DIRECTORY_FILE": "~0"})  # RuntimeError from expanduser before
def test_environment_values_load_or_give_config_error(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]
) -> None:
    _load(tmp_path_factory.mktemp("config"), MINIMAL.encode(), env)


@pytest.mark.parametrize("path", CONFIG_SEEDS, ids=seed_ids(CONFIG_SEEDS))
def test_config_corpus(tmp_path: Path, path: Path) -> None:
    _load(tmp_path, path.read_bytes())


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("integer-5000-digits.toml", "too many digits"),
        ("not-utf8.toml", "not UTF-8"),
        ("nan-seconds.toml", "positive duration"),
        ("inf-seconds.toml", "at most 100 years"),
        ("duration-overflow.toml", "at most 100 years"),
        ("duration-too-long.toml", "at most 100 years"),
        ("integer-too-large.toml", "from -2147483647 to 2147483647"),
        ("port-arabic-digits.toml", "port must be a number"),
    ],
)
def test_config_findings_are_config_errors(tmp_path: Path, seed: str, message: str) -> None:
    # Each was a ValueError, UnicodeDecodeError or OverflowError traceback, or (nan, inf,
    # a 23-digit integer, Arabic-Indic port digits) a value that loaded and broke later.
    path = tmp_path / seed
    path.write_bytes((Path(__file__).parent / "corpus" / "config" / seed).read_bytes())
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


# -- the peers file -------------------------------------------------------------------------


@FUZZ
@given(mutated(PEER_CORPUS))
def test_peers_file_bytes_load_or_give_config_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    _load_peers(tmp_path_factory.mktemp("peers"), data)


@pytest.mark.parametrize("path", PEER_SEEDS, ids=seed_ids(PEER_SEEDS))
def test_peers_corpus(tmp_path: Path, path: Path) -> None:
    _load_peers(tmp_path, path.read_bytes())


@pytest.mark.parametrize("seed", ["cert-path-nul.toml", "cert-path-folder.toml", "not-utf8.toml"])
def test_peers_findings_are_config_errors(tmp_path: Path, seed: str) -> None:
    path = tmp_path / "peers.toml"
    path.write_bytes((Path(__file__).parent / "corpus" / "peers" / seed).read_bytes())
    with pytest.raises(ConfigError):
        Directory.load(path)


# -- the TOML writer round trip --------------------------------------------------------------

_KEYS = st.text(min_size=1, max_size=10)
_SCALARS = st.integers(-(2**63), 2**63 - 1) | st.booleans() | st.text(max_size=20)
_FLAT = st.dictionaries(_KEYS, _SCALARS | st.lists(_SCALARS, max_size=3), max_size=3)
_TABLES = st.dictionaries(
    _KEYS,
    _FLAT | st.dictionaries(_KEYS, _FLAT, max_size=2) | st.lists(_FLAT, min_size=1, max_size=2),
    max_size=3,
)


@FUZZ
@given(st.dictionaries(_KEYS, _SCALARS, max_size=3), _TABLES)
def test_rendered_toml_reads_back_as_the_same_document(
    scalars: dict[str, Any], tables: dict[str, Any]
) -> None:
    document = {**tables, **scalars}
    with time_bound():
        assert tomllib.loads(render_toml(document)) == document
