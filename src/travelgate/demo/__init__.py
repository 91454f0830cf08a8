"""Local demos: `make run` (alice + a robot bob) and `make demo` (scripted outcomes)."""

from travelgate.demo._pair import ALICE, BOB, BOB_ADDRESS, ensure_pki, load_node, running, wire
from travelgate.demo._script import SCENARIOS, run_demo, run_pair

__all__ = [
    "ALICE",
    "BOB",
    "BOB_ADDRESS",
    "SCENARIOS",
    "ensure_pki",
    "load_node",
    "run_demo",
    "run_pair",
    "running",
    "wire",
]
