import pytest

from analytics.tests.data import ensure_reference_data


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests elsewhere flush every table, the migrations' ICD-10-CM code set and "analysts"
    group included; analytics tests that touch the database get them back first."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    ensure_reference_data()
