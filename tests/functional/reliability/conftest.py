# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the reliability matrix (docs/reliability.md).

Several rows share one fleet and one ansible-playbook run (a fleet where every host has a
different fault is also what a night job meets), so those fixtures are module-scoped: the run
happens once and one test per row asserts what that row's host saw.
"""

from __future__ import annotations


import pytest

from xprotect_go_simulator.pytest_plugin import fleet_factory
from tests.functional.reliability.helpers import Runner


@pytest.fixture(scope='module')
def module_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('reliability')


@pytest.fixture(scope='module')
def module_runner(module_dir):
    return Runner(module_dir)


@pytest.fixture
def runner(tmp_path):
    return Runner(tmp_path)


@pytest.fixture(scope='module')
def module_fleets():
    """module_fleets(count, **Fleet kwargs) -> a started Fleet, stopped after the module's tests."""
    with fleet_factory() as start:
        yield start
