import pytest

from qike.sync.full import refresh_planner_statistics

pytestmark = pytest.mark.django_db


def test_planner_statistics_refresh_runs_on_this_database():
    refresh_planner_statistics()  # ANALYZE on each bulk-loaded table: valid SQL on SQLite and PG
