"""`travelgate keys` commands (placeholder until the room lands)."""

from __future__ import annotations

import argparse
from typing import Any


def register(groups: argparse._SubParsersAction[Any]) -> None:
    groups.add_parser("keys", help="(not yet available)")
