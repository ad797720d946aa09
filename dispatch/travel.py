"""Travel times and distances between locations: the protocol every planner uses, and two providers.

A location is either a validated :class:`GeoPoint` or an opaque string key that a matrix provider knows
(benchmarks use plane coordinates that are not latitudes and longitudes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from helpdesk.core.errors import InvalidInput

EARTH_RADIUS_METERS = 6_371_000.0


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 point; constructing one out of range raises ``InvalidInput`` naming ``lat`` or ``lon``."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90.0 <= self.lat <= 90.0):
            raise InvalidInput(f"latitude {self.lat} is outside [-90, 90]", field="lat")
        if not (math.isfinite(self.lon) and -180.0 <= self.lon <= 180.0):
            raise InvalidInput(f"longitude {self.lon} is outside [-180, 180]", field="lon")


Location: TypeAlias = GeoPoint | str
IntMatrix: TypeAlias = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TravelMatrix:
    """Square matrices indexed like the locations they were asked for: whole seconds and whole metres."""

    durations_seconds: IntMatrix
    distances_meters: IntMatrix


class TravelProvider(Protocol):
    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """Travel from every location to every location, in the order given."""
        ...


@dataclass(frozen=True)
class HaversineTravel:
    """Great-circle distance times a road factor, driven at a constant average speed.

    The defaults (1.3 road factor, 30 km/h) fit a city; they err on the slow side so plans stay feasible.
    """

    road_factor: float = 1.3
    speed_kmh: float = 30.0

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        points = [_geo(loc, index) for index, loc in enumerate(locations)]
        lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
        lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        meters = 2 * EARTH_RADIUS_METERS * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) * self.road_factor
        seconds = meters / (self.speed_kmh / 3.6)
        # Rounding up keeps a planned arrival from being earlier than the model says is possible.
        return TravelMatrix(
            durations_seconds=np.ceil(seconds).astype(np.int64),
            distances_meters=np.rint(meters).astype(np.int64),
        )


class MatrixTravel:
    """Travel read from given matrices, for tests and benchmarks: ``keys[i]`` is row and column ``i``."""

    def __init__(
        self,
        keys: Sequence[Location],
        durations_seconds: Sequence[Sequence[int]] | IntMatrix,
        distances_meters: Sequence[Sequence[int]] | IntMatrix | None = None,
    ) -> None:
        self._index = {key: i for i, key in enumerate(keys)}
        if len(self._index) != len(keys):
            raise InvalidInput("matrix keys must be unique", field="keys")
        self._durations = np.asarray(durations_seconds, dtype=np.int64)
        self._distances = (
            self._durations if distances_meters is None else np.asarray(distances_meters, dtype=np.int64)
        )
        size = len(keys)
        for name, m in (("durations_seconds", self._durations), ("distances_meters", self._distances)):
            if m.shape != (size, size):
                raise InvalidInput(f"{name} must be {size}x{size}", field=name)
            if (m < 0).any():
                raise InvalidInput(f"{name} has a negative entry", field=name)

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        try:
            rows = np.array([self._index[loc] for loc in locations], dtype=np.int64)
        except KeyError as exc:
            raise InvalidInput(
                f"location {exc.args[0]!r} is not in the travel matrix", field="location"
            ) from exc
        return TravelMatrix(
            durations_seconds=self._durations[np.ix_(rows, rows)],
            distances_meters=self._distances[np.ix_(rows, rows)],
        )


def _geo(location: Location, index: int) -> GeoPoint:
    if isinstance(location, GeoPoint):
        return location
    raise InvalidInput(f"location {index} ({location!r}) has no coordinates", field="location")
