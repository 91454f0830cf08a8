"""`travelgate records export|verify`: placeholder while the export is built."""

from __future__ import annotations

import argparse
from typing import Any


def register(groups: argparse._SubParsersAction[Any]) -> None:
    return None
