"""travelgate nodes as real subprocesses (`serve`, `robot`), for CLI and crash tests.

The node logs one JSON object per line on stderr; the "node started" line tells the port
it bound (configs use port 0). Output is drained by a thread so the pipe never fills.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

TRAVELGATE = str(Path(sys.executable).parent / "travelgate")


def run_cli(
    *args: str, stdin: bytes | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [TRAVELGATE, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


class NodeProcess:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.process = subprocess.Popen(
            [TRAVELGATE, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return found

    def wait_started(self, timeout: float = 30) -> int:
        """The TRISA port from the "node started" line; fails with the log if it exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event.get("event") == "node started":
                    return int(event["trisa_port"])
            if self.process.poll() is not None:
                time.sleep(0.2)
                raise AssertionError(
                    f"node exited with {self.process.returncode}:\n" + "\n".join(self.lines)
                )
            time.sleep(0.05)
        raise AssertionError("node did not start:\n" + "\n".join(self.lines))

    def terminate(self, timeout: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._close()
        return code

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self._close()

    def stop_quietly(self) -> None:
        if self.process.poll() is None:
            self.kill()
        self._close()

    def _close(self) -> None:
        self._reader.join(timeout=5)
        if self.process.stderr is not None and not self.process.stderr.closed:
            self.process.stderr.close()
