"""The crypto.com Exchange v1 simulator: the matching engine behind the real protocol.

To run it in process for a test or a benchmark: bot.devtools.simulator_harness.running_simulator."""

from bot.exchange.simulator.core import RecordedCall, Simulator, SimulatorConfig

__all__ = ["RecordedCall", "Simulator", "SimulatorConfig"]
