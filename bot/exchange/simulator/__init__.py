"""The crypto.com Exchange v1 simulator: the matching engine behind the real protocol."""

from bot.exchange.simulator.core import RecordedCall, Simulator, SimulatorConfig
from bot.exchange.simulator.testing import SimulatorHandle, running_simulator

__all__ = ["RecordedCall", "Simulator", "SimulatorConfig", "SimulatorHandle", "running_simulator"]
