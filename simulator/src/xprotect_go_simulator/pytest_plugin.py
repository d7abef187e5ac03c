# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pytest fixtures for tests that need simulated hosts (loaded by tests/conftest.py).

sim_fleet(count=1, **Fleet kwargs) -> a started Fleet; every fleet stops at teardown
sim_host       -> RunningHost of one standard host (basic over https); .fleet has ca_path, password
sim_control    -> ControlClient: get/post/delete with absolute URLs (fleet.control_url, host.control_url)
real_inventory -> $XPGO_TEST_INVENTORY (an inventory of real Windows hosts) or None
"""

from __future__ import annotations

import contextlib
import os
import typing as t

import pytest

from .control import ControlClient
from .fleet import Fleet, RunningHost

REAL_INVENTORY_VARIABLE = 'XPGO_TEST_INVENTORY'


@contextlib.contextmanager
def fleet_factory() -> t.Iterator[t.Callable[..., Fleet]]:
    """start(count=1, **Fleet kwargs) -> a started Fleet; every fleet started stops when the block ends."""
    fleets: list[Fleet] = []

    def start(count: int = 1, **kwargs: t.Any) -> Fleet:
        fleet = Fleet(count=count, **kwargs)
        fleets.append(fleet)
        return fleet.start()

    try:
        yield start
    finally:
        for fleet in reversed(fleets):
            fleet.stop()


@pytest.fixture
def sim_fleet() -> t.Iterator[t.Callable[..., Fleet]]:
    with fleet_factory() as start:
        yield start


@pytest.fixture
def sim_host(sim_fleet: t.Callable[..., Fleet]) -> RunningHost:  # pylint: disable=redefined-outer-name
    return sim_fleet(1).hosts[0]


@pytest.fixture
def sim_control() -> ControlClient:
    return ControlClient()


@pytest.fixture
def real_inventory() -> str | None:
    return os.environ.get(REAL_INVENTORY_VARIABLE) or None
