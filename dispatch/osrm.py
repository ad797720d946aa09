"""Road travel times from an OSRM server's ``/table`` service, as a ``TravelProvider``.

The only I/O in ``dispatch``: the caller builds the ``httpx.Client`` (base URL, timeouts) and owns its life.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np

from dispatch.travel import GeoPoint, Location, TravelMatrix
from helpdesk.core.errors import InvalidInput


class OsrmError(RuntimeError):
    """The OSRM server answered with an error or something that is not a full table."""


class OsrmTravel:
    """``GET {base}/table/v1/{profile}/{lon,lat;...}?annotations=duration,distance`` on ``client``.

    Unreachable pairs (``null`` in OSRM's answer) get ``unreachable_seconds`` so the planner avoids them.
    """

    def __init__(
        self, client: httpx.Client, *, profile: str = "driving", unreachable_seconds: int = 10**7
    ) -> None:
        self._client = client
        self._profile = profile
        self._unreachable = unreachable_seconds

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        points = []
        for i, loc in enumerate(locations):
            if not isinstance(loc, GeoPoint):
                raise InvalidInput(f"location {i} ({loc!r}) has no coordinates", field="location")
            points.append(f"{loc.lon:.6f},{loc.lat:.6f}")
        response = self._client.get(
            f"/table/v1/{self._profile}/{';'.join(points)}", params={"annotations": "duration,distance"}
        )
        body = (
            response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        )
        if response.status_code != 200 or body.get("code") != "Ok":
            raise OsrmError(
                f"OSRM table failed: {response.status_code} {body.get('code')} {body.get('message', '')}"
            )
        return TravelMatrix(
            durations_seconds=self._grid(body.get("durations"), len(points), np.ceil),
            distances_meters=self._grid(body.get("distances"), len(points), np.rint),
        )

    def _grid(
        self, rows: object, size: int, rounding: np.ufunc
    ) -> np.ndarray[tuple[int, int], np.dtype[np.int64]]:
        if (
            not isinstance(rows, list)
            or len(rows) != size
            or any(not isinstance(r, list) or len(r) != size for r in rows)
        ):
            raise OsrmError(f"OSRM table is not {size}x{size}")
        grid = np.array(
            [[self._unreachable if v is None else v for v in row] for row in rows], dtype=np.float64
        )
        rounded: np.ndarray[tuple[int, int], np.dtype[np.int64]] = rounding(grid).astype(np.int64)
        return rounded
