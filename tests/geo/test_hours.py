"""Opening hours for a period of the reference week, on real OSM values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from geo.hours import PERIODS, moment, open_in, open_mask


@pytest.mark.parametrize(("spec", "period", "want"), [
    ("Mo-Fr 09:00-17:00", "werkdag_ochtend", True),
    ("Mo-Fr 09:00-17:00", "zondag_middag", False),
    ("Mo-Fr 09:00-17:00", "werkdag_avond", False),
    ("Tu 10:00-12:00", "werkdag_ochtend", True),  # open on one of the weekdays is enough
    ("Mo 11:30-12:00", "werkdag_ochtend", False),  # 30 minutes is less than an hour
    ("24/7", "zondag_middag", True),
    ("Su 13:00-15:00; PH off", "zondag_middag", True),
    ("Sa,Su off", "zaterdag", False),
    ("Su unknown", "zondag_middag", None),
    ("geen idee", "zaterdag", None),  # unparseable = unknown
    (None, "zaterdag", None),
    ("", "zaterdag", None),
])
def test_open_in_a_period(spec, period, want):
    assert open_in(spec, PERIODS[period]) is want


def test_a_moment_is_open_only_when_the_hours_say_so():
    assert open_in("Mo-Fr 09:00-17:00", moment(2, dt.time(10))) is True
    assert open_in("Mo-Fr 09:00-17:00", moment(2, dt.time(8, 59))) is False
    assert open_in("Mo-Fr 09:00-17:00", moment(6, dt.time(10))) is False


def test_unknown_hours_count_as_open_and_are_flagged(demo_prepared):
    specs = demo_prepared.places["opening_hours"]
    usable, unknown = open_mask(specs, PERIODS["zondag_middag"])
    assert unknown.sum() == sum(open_in(s, PERIODS["zondag_middag"]) is None for s in specs)
    assert usable[unknown].all()
    # the real extract has places with hours that are closed on Sunday afternoon
    assert (~usable).any()
    all_usable, none_unknown = open_mask(specs, None)
    assert all_usable.all() and not none_unknown.any()
    assert np.array_equal(usable | ~unknown, np.ones(len(specs), bool) & (usable | ~unknown))
