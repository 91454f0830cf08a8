"""Run every benchmark and write bench/RESULTS.md (figures beside the crypto bound)."""

from __future__ import annotations


def main() -> int:
    print("no benchmarks yet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
