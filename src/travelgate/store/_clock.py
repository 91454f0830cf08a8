"""Timestamps as the store writes them: RFC 3339 UTC with microseconds (sortable text)."""

from __future__ import annotations

from datetime import UTC, datetime


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
