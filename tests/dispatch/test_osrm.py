from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import httpx
import pytest

from dispatch.osrm import OsrmError, OsrmTravel
from dispatch.travel import GeoPoint


class FakeOsrm(BaseHTTPRequestHandler):
    """Answers ``/table`` like OSRM: 2x2 durations and distances, one pair unreachable."""

    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if "fail" in self.path:
            body = {"code": "InvalidQuery", "message": "bad coordinates"}
            status = 400
        else:
            body = {"code": "Ok", "durations": [[0, 61.2], [None, 0]], "distances": [[0, 812.6], [None, 0]]}
            status = 200
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def osrm_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_osrm_table_becomes_a_travel_matrix_rounding_time_up(osrm_url: str) -> None:
    with httpx.Client(base_url=osrm_url) as client:
        matrix = OsrmTravel(client, unreachable_seconds=999).matrix(
            [GeoPoint(48.1, 11.5), GeoPoint(48.2, 11.6)]
        )
    assert matrix.durations_seconds.tolist() == [[0, 62], [999, 0]]
    assert matrix.distances_meters.tolist() == [[0, 813], [999, 0]]
    assert FakeOsrm.requests[-1].startswith("/table/v1/driving/11.500000,48.100000;11.600000,48.200000?")
    assert "annotations=duration%2Cdistance" in FakeOsrm.requests[-1]


def test_osrm_error_is_raised_with_its_code(osrm_url: str) -> None:
    with httpx.Client(base_url=osrm_url) as client, pytest.raises(OsrmError, match="InvalidQuery"):
        OsrmTravel(client, profile="fail").matrix([GeoPoint(0, 0)])
