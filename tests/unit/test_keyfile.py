"""Key files that replicas create at the same moment: exactly one key wins, all use it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from travelgate.audit._key import load_or_create_audit_key
from travelgate.errors import ConfigError
from travelgate.store import load_or_create_key

REPLICAS = 8

# Each process sleeps until the same wall-clock moment, then loads (or creates) both keys.
RACE = """
import base64, sys, time
from pathlib import Path
from travelgate.audit._key import load_or_create_audit_key
from travelgate.store import load_or_create_key
start, folder = float(sys.argv[1]), Path(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
storage = load_or_create_key(folder / "storage.key")
audit = load_or_create_audit_key(folder / "audit.key")
print(base64.b64encode(storage).decode(), audit.public_key_text)
"""


def test_replicas_starting_together_agree_on_one_storage_and_audit_key(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    start = time.time() + 2.0  # time for every interpreter to start and import
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(start), str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(REPLICAS)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err.decode()
        outputs.append(out.decode().strip())
    assert len(set(outputs)) == 1, outputs
    storage_text, audit_public = outputs[0].split()
    assert (folder / "storage.key").read_text().strip() == storage_text
    assert load_or_create_audit_key(folder / "audit.key").public_key_text == audit_public
    for name in ("storage.key", "audit.key"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["audit.key", "storage.key"]


def test_a_key_file_is_only_ever_seen_whole(tmp_path: Path) -> None:
    """The name appears once the key is written: an empty file is someone's mistake, and
    it is refused rather than taken for a key."""
    path = tmp_path / "storage.key"
    path.write_text("")
    with pytest.raises(ConfigError, match="holds 0 bytes"):
        load_or_create_key(path)
