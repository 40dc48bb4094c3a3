"""The race engine and its result arrays."""

from optviz.core.race.engine import DEFAULT_TOLERANCE, run_race, simulate
from optviz.core.race.result import RaceResult, RunConfig, RunStatus
from optviz.core.race.starts import grid_starts

__all__ = ["DEFAULT_TOLERANCE", "RaceResult", "RunConfig", "RunStatus", "grid_starts", "run_race", "simulate"]
