import pytest
from starlette.requests import Request

from pocketstack.core import exceptions as exc
from pocketstack.core.microversion import Microversions, Version

MV = Microversions("compute", "2.1", "2.90", legacy_header="X-OpenStack-Nova-API-Version")


def request(**headers: str) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "headers": raw})


def test_no_header_means_minimum():
    assert MV.requested(request()) == Version(2, 1)


def test_latest_and_explicit():
    assert MV.requested(request(**{"OpenStack-API-Version": "compute latest"})) == (2, 90)
    assert MV.requested(request(**{"OpenStack-API-Version": "compute 2.10"})) == (2, 10)
    assert MV.requested(request(**{"X-OpenStack-Nova-API-Version": "2.5"})) == (2, 5)


def test_other_services_entries_are_ignored():
    hdr = {"OpenStack-API-Version": "volume 3.50, compute 2.20"}
    assert MV.requested(request(**hdr)) == (2, 20)


def test_versions_compare_numerically_not_as_text():
    assert Version.parse("2.10") > Version.parse("2.9")


@pytest.mark.parametrize("value", ["compute 2.91", "compute 1.0", "compute 3.0"])
def test_outside_range_is_406(value):
    with pytest.raises(exc.NotAcceptable):
        MV.requested(request(**{"OpenStack-API-Version": value}))


@pytest.mark.parametrize("value", ["compute 2", "compute two", "compute 2.01"])
def test_malformed_is_400(value):
    with pytest.raises(exc.BadRequest):
        MV.requested(request(**{"OpenStack-API-Version": value}))
