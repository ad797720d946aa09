from __future__ import annotations

import pytest

from dispatch.travel import GeoPoint, HaversineTravel, MatrixTravel
from helpdesk.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (90.5, 0.0, "lat"),
        (-91.0, 0.0, "lat"),
        (0.0, 180.1, "lon"),
        (0.0, -200.0, "lon"),
        (float("nan"), 0.0, "lat"),
    ],
)
def test_coordinates_out_of_range_raise_invalid_input_naming_the_field(
    lat: float, lon: float, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        GeoPoint(lat, lon)
    assert caught.value.field == field


def test_haversine_applies_road_factor_and_average_speed() -> None:
    a, b = GeoPoint(48.137, 11.575), GeoPoint(48.237, 11.575)  # 0.1 degree of latitude is about 11.1 km
    matrix = HaversineTravel(road_factor=1.3, speed_kmh=30).matrix([a, b])
    assert matrix.distances_meters[0][1] == pytest.approx(11_119 * 1.3, rel=0.01)
    assert matrix.durations_seconds[0][1] == pytest.approx(11_119 * 1.3 / (30 / 3.6), rel=0.01)
    assert matrix.durations_seconds[0][0] == 0
    assert matrix.durations_seconds[1][0] == matrix.durations_seconds[0][1]


def test_haversine_refuses_a_location_without_coordinates() -> None:
    with pytest.raises(InvalidInput) as caught:
        HaversineTravel().matrix([GeoPoint(0, 0), "depot"])
    assert caught.value.field == "location"


def test_matrix_provider_answers_in_the_order_asked_and_rejects_unknown_keys() -> None:
    travel = MatrixTravel(["a", "b", "c"], [[0, 1, 2], [3, 0, 4], [5, 6, 0]])
    assert travel.matrix(["c", "a"]).durations_seconds.tolist() == [[0, 5], [2, 0]]
    with pytest.raises(InvalidInput):
        travel.matrix(["a", "z"])


def test_matrix_provider_rejects_a_matrix_of_the_wrong_shape() -> None:
    with pytest.raises(InvalidInput) as caught:
        MatrixTravel(["a", "b"], [[0, 1]])
    assert caught.value.field == "durations_seconds"
