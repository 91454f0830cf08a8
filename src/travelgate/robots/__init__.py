"""Robot counterparties: real travelgate nodes whose decisions are scripted.

Used by the tests, the demo and the conformance suite (`travelgate robot --policy ...`).
"""

from travelgate.robots._broken import broken_behaviour
from travelgate.robots._deciders import POLICIES, RobotDecider, RobotPolicy

__all__ = ["POLICIES", "RobotDecider", "RobotPolicy", "broken_behaviour"]
