# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The heal playbook, and the maintenance switch the stop and restart playbooks set and clear."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import yaml

from tests.helpers import XPROTECT_NAMES
from xprotect_go_simulator.control import ControlClient

RECORDING_SERVER = 'Milestone XProtect Recording Server'
QUICK = {'start_seconds': 0.2, 'stop_seconds': 0.1}

pytestmark = pytest.mark.slow


@pytest.fixture
def fleet_with_switches(sim_fleet, tmp_path):
    """Two quick standard hosts and an inventory whose maintenance switches live under tmp_path."""
    fleet = sim_fleet(2, overrides_per_host=[{name: dict(QUICK) for name in XPROTECT_NAMES} for _index in range(2)])
    inventory = fleet.inventory()
    switches = tmp_path / 'switches'
    inventory['all']['children']['xprotect']['vars']['xprotect_go_maintenance_dir'] = str(switches)
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    return fleet, str(path), switches


def state(host, service=RECORDING_SERVER):
    return ControlClient().get(host.control_url + '/services')[service]['State']


def stop_out_of_band(host):
    ControlClient().post('%s/services/%s' % (host.control_url, quote(RECORDING_SERVER, safe='')), {'State': 'Stopped', 'ExitCode': 1067})


def test_stop_leaves_its_hosts_under_maintenance(fleet_with_switches, run_playbook):
    fleet, inventory, switches = fleet_with_switches
    run = run_playbook('playbooks/stop.yml', inventory, '--limit', 'xpgo-002')
    assert run.recap['xpgo-002']['failed'] == 0
    assert sorted(path.name for path in switches.iterdir()) == ['xpgo-002']
    assert json.loads((switches / 'xpgo-002').read_text())['reason'] == 'stopped by xprotect.go.stop'
    assert state(fleet.hosts[1]) == 'Stopped' and state(fleet.hosts[0]) == 'Running'


def test_stop_in_check_mode_sets_nothing(fleet_with_switches, run_playbook):
    dummy, inventory, switches = fleet_with_switches
    run_playbook('playbooks/stop.yml', inventory, check_mode=True)
    assert not switches.exists()


def test_restart_sets_the_switch_for_each_batch_and_clears_it_after(fleet_with_switches, run_playbook):
    fleet, inventory, switches = fleet_with_switches
    run = run_playbook('playbooks/restart.yml', inventory, '-e', 'rolling_restart_settle_seconds=0')
    for host in ('xpgo-001', 'xpgo-002'):
        switched = [result for result in run.results if result.host == host and result.task.endswith("Set the host's maintenance switch")]
        assert [result.status for result in switched] == ['changed', 'changed'], 'set before the restart, cleared after'
    assert list(switches.iterdir()) == []
    assert all(state(host) == 'Running' for host in fleet.hosts)


def test_heal_starts_the_recording_server_of_the_limit_only(fleet_with_switches, run_playbook):
    fleet, inventory, dummy = fleet_with_switches
    for host in fleet.hosts:
        stop_out_of_band(host)
    run = run_playbook('playbooks/heal.yml', inventory, '--limit', 'xpgo-001')
    assert run.task('Start the Recording Server, then the services that need it', 'xpgo-001').status == 'changed'
    assert state(fleet.hosts[0]) == 'Running' and state(fleet.hosts[1]) == 'Stopped'


def test_heal_leaves_a_host_under_maintenance_alone(fleet_with_switches, run_playbook):
    fleet, inventory, switches = fleet_with_switches
    stop_out_of_band(fleet.hosts[0])
    switches.mkdir()
    (switches / '_fleet').write_text('{"reason": "storage migration"}')
    run = run_playbook('playbooks/heal.yml', inventory, '--limit', 'xpgo-001')
    assert run.recap['xpgo-001']['changed'] == 0
    assert state(fleet.hosts[0]) == 'Stopped'


def test_heal_refuses_to_run_without_a_limit(fleet_with_switches, run_playbook):
    fleet, inventory, dummy = fleet_with_switches
    stop_out_of_band(fleet.hosts[0])
    run = run_playbook('playbooks/heal.yml', inventory, expect_rc=2)
    assert 'to start the whole fleet, run xprotect.go.start' in run.stdout
    assert state(fleet.hosts[0]) == 'Stopped'
