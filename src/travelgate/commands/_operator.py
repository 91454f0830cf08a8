"""Who runs a command on the node's host, as the audit trail and exports name them."""

from __future__ import annotations

import getpass
import socket
from typing import Any

# The CLI runs on the node's host, by someone with its configuration and keys.
OPERATOR_ACTOR = "operator"


def operator_identity() -> dict[str, Any]:
    """The login and host a command ran under (no personal data beyond a login name)."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):
        login = "unknown"
    return {"actor": OPERATOR_ACTOR, "login": login, "host": socket.gethostname()}
