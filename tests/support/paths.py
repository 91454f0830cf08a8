"""Where the vendored TRISA vectors live inside tests/vectors."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
TRISA_VECTORS = VECTORS / "trisa" / "pkg"
ENVELOPE_VECTORS = TRISA_VECTORS / "trisa" / "envelope" / "testdata"
KEY_VECTORS = TRISA_VECTORS / "trisa" / "keys" / "testdata"
SIGNATURE_VECTORS = TRISA_VECTORS / "trisa" / "keys" / "signature" / "testdata"
PEER_VECTORS = TRISA_VECTORS / "trisa" / "peers" / "testdata"
IVMS_VECTORS = TRISA_VECTORS / "ivms101" / "testdata"
