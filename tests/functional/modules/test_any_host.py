# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module matrix that runs unchanged against real Windows hosts or the simulated ones.

With XPGO_TEST_INVENTORY=<inventory of real XProtect Go servers (group xprotect)> these tests
control one service on every host there (XPGO_TEST_SERVICE, default log_check, the least
disruptive one) and put it back as they found it. Without it they run against a simulated fleet.
They check the true state with a separate service_info run, never with the simulator's control
endpoint, so they need nothing a real host lacks.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.functional.modules.helpers import fast_overrides

pytestmark = pytest.mark.compat

SERVICE = os.environ.get('XPGO_TEST_SERVICE', 'log_check')


@pytest.fixture
def inventory(real_inventory, sim_fleet, fleet_inventory):
    if real_inventory:
        return real_inventory
    return fleet_inventory(
        sim_fleet(2, profile_mix={'standard': 1, 'custom': 1}, overrides_per_host=fast_overrides(['standard', 'custom']))
    )


@pytest.fixture
def observe(write_play, run_playbook, tmp_path):
    """observe(inventory) -> {host: service_info result}, read by a separate play."""
    play = write_play("""
        - xprotect.go.service_info:
          register: info
        - ansible.builtin.copy:
            content: "{{ info | to_json }}"
            dest: "{{ playbook_dir }}/observed-{{ inventory_hostname }}.json"
            mode: '0600'
          delegate_to: localhost
    """)

    def read(inventory):
        for old in tmp_path.glob('observed-*.json'):
            old.unlink()
        run_playbook(play, inventory)
        return {path.stem[len('observed-') :]: json.loads(path.read_text()) for path in tmp_path.glob('observed-*.json')}

    return read


def service_states(observed):
    return {host: info['services'][SERVICE]['state'] for host, info in observed.items()}


def changed(run):
    return {host: counts['changed'] for host, counts in run.recap.items()}


def test_stop_and_start_matrix(inventory, observe, write_play, run_playbook):
    before = observe(inventory)
    assert before and all(info['services'][SERVICE]['installed'] for info in before.values())
    start = write_play('- xprotect.go.service: {name: %s, state: started}' % SERVICE)
    stop = write_play('- xprotect.go.service: {name: %s, state: stopped}' % SERVICE)
    run_playbook(start, inventory)
    try:
        run = run_playbook(stop, inventory, check_mode=True, diff=True)
        assert set(changed(run).values()) == {1}
        assert set(service_states(observe(inventory)).values()) == {'started'}, 'check mode changed nothing'

        assert set(changed(run_playbook(stop, inventory)).values()) == {1}
        assert set(service_states(observe(inventory)).values()) == {'stopped'}
        for check_mode in (True, False):
            assert set(changed(run_playbook(stop, inventory, check_mode=check_mode)).values()) == {0}

        assert set(changed(run_playbook(start, inventory)).values()) == {1}
        assert set(service_states(observe(inventory)).values()) == {'started'}
        for check_mode in (True, False):
            assert set(changed(run_playbook(start, inventory, check_mode=check_mode)).values()) == {0}
    finally:
        # Leave the service stopped again where it was stopped (it ends started everywhere).
        was_stopped = [host for host, info in before.items() if info['services'][SERVICE]['state'] in ('stopped', 'stop_pending')]
        if was_stopped:
            run_playbook(stop, inventory, '--limit', ','.join(was_stopped))


def test_service_info_reports_every_key(inventory, observe):
    for info in observe(inventory).values():
        assert set(info['services']) == {'recording_server', 'image_server', 'image_import', 'log_check', 'event_server', 'mobile_server'}
        assert info['install_type'] in ('standard', 'custom')
        assert set(info['missing']) == {key for key, entry in info['services'].items() if not entry['installed']}
