# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the roles' and playbooks' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from xprotect_go_simulator.fleet import profile_sequence
from xprotect_go_simulator.profiles import PROFILES

from .helpers import QUICK, XPROTECT_NAMES, SimFleet


@pytest.fixture
def xprotect_fleet(sim_fleet, tmp_path):
    """xprotect_fleet(profile_mix, count, extra={host index: {service: settings}}) -> SimFleet.

    Every XProtect service of every host starts and stops in a fraction of a second. Settings for
    services a host's profile does not have are left out.
    """

    def start(profile_mix, count, extra=None):
        profiles = profile_sequence(count, profile_mix)
        overrides = []
        for index, profile in enumerate(profiles):
            installed = {service['Name'] for service in PROFILES[profile].services}
            host = {name: dict(QUICK) for name in XPROTECT_NAMES if name in installed}
            for name, settings in ((extra or {}).get(index) or {}).items():
                if name in installed:
                    host.setdefault(name, {}).update(settings)
            overrides.append(host)
        fleet = sim_fleet(count, profile_mix=profile_mix, overrides_per_host=overrides)
        inventory = Path(fleet.write_inventory(str(tmp_path / 'inventory.yml')))
        return SimFleet(fleet, inventory)

    return start
