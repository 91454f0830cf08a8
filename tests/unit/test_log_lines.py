"""Log lines are whole: one write per line, so processes sharing stderr never interleave."""

from __future__ import annotations

import json

import structlog

from travelgate.logging import configure


class _Writes:
    """A stream that remembers each write it was given, as a pipe would receive them."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_each_log_line_is_one_write_ending_in_a_newline() -> None:
    stream = _Writes()
    configure("info", stream=stream)  # type: ignore[arg-type]
    try:
        log = structlog.get_logger("test")
        log.info("worker started", worker=1)
        log.warning("second", worker=0)
    finally:
        configure("info")
    assert len(stream.writes) == 2
    for text in stream.writes:
        assert text.endswith("\n")
        assert text.count("\n") == 1
    assert json.loads(stream.writes[0])["worker"] == 1
