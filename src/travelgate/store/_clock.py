"""Timestamps as the store writes them (kept for the store's own imports)."""

from __future__ import annotations

from travelgate.timestamps import now_text

__all__ = ["now_text"]
