# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for running the modules against simulated hosts with ansible-playbook."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from tests.conftest import tasks_by_way
from xprotect_go_simulator.profiles import PROFILES

# Fast services so a test's restarts take about a second.
FAST = {'start_seconds': 0.3, 'stop_seconds': 0.2}
FAST_SERVICES = {name: dict(FAST) for name in (
    'Milestone XProtect Recording Server', 'Milestone Image Server', 'Milestone Image Import Service',
    'Milestone Log Check Service', 'MilestoneEventServerService', 'Milestone Mobile Service')}


def fast_overrides(profiles, extra=None):
    """Fleet overrides_per_host making each host's XProtect services quick, plus {host index: {service: settings}}."""
    overrides = []
    for index, profile in enumerate(profiles):
        installed = {service['Name'] for service in PROFILES[profile].services}
        host = {name: dict(values) for name, values in FAST_SERVICES.items() if name in installed}
        for name, values in ((extra or {}).get(index) or {}).items():
            host.setdefault(name, {}).update(values)
        overrides.append(host)
    return overrides


@pytest.fixture
def write_play(tmp_path):
    """write_play(tasks, way='inventory', hosts='xprotect', play_extra=None) -> path of a one-play playbook."""
    counter = iter(range(1000))

    def write(tasks, way='inventory', hosts='xprotect', play_extra=None):
        tasks = tasks_by_way(yaml.safe_load(textwrap.dedent(tasks)) if isinstance(tasks, str) else tasks, way)
        play = dict({'name': 'test', 'hosts': hosts, 'gather_facts': False, 'tasks': tasks}, **(play_extra or {}))
        path = tmp_path / ('play-%d.yml' % next(counter))
        path.write_text(yaml.safe_dump([play], sort_keys=False))
        return path

    return write


@pytest.fixture
def fleet_inventory(tmp_path):
    """fleet_inventory(fleet) -> path of the fleet's inventory file."""
    def write(fleet, name='inventory.yml'):
        return fleet.write_inventory(str(tmp_path / name))
    return write


def services_of(sim_control, host):
    """The true state of a simulated host's services, read out of band through the control endpoint."""
    return sim_control.get(host.control_url + '/services')


def states(sim_control, host, names=FAST_SERVICES):
    snapshot = services_of(sim_control, host)
    return {name: snapshot[name]['State'] for name in names if name in snapshot}
