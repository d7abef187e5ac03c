# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for running the modules against simulated hosts with ansible-playbook."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from tests.helpers import tasks_by_way


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
