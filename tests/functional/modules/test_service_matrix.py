# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""xprotect.go.service and service_info against simulated hosts, every way in, verified out of band."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.helpers import WAYS_IN
from tests.functional.modules.helpers import FAST_SERVICES, fast_overrides, services_of, states

RECORDING_SERVER = 'Milestone XProtect Recording Server'
XPROTECT = set(FAST_SERVICES)
CUSTOM = XPROTECT - {'MilestoneEventServerService', 'Milestone Mobile Service'}

pytestmark = pytest.mark.compat


@pytest.fixture
def fleet(sim_fleet):
    """Two hosts, a Standard and a Custom installation, basic auth over https with the fleet's CA."""
    return sim_fleet(2, profile_mix={'standard': 1, 'custom': 1}, overrides_per_host=fast_overrides(['standard', 'custom']))


# Inventory hosts run this matrix in the integration target `service` (tests/integration/targets), which
# also runs against real Windows servers; here the other two ways in.
@pytest.mark.parametrize('way', [way for way in WAYS_IN if way != 'inventory'])
def test_stop_then_start_matrix(way, fleet, fleet_inventory, write_play, run_playbook, sim_control):
    inventory = fleet_inventory(fleet)
    stop = write_play('- xprotect.go.service: {name: custom, state: stopped}', way=way)
    start = write_play('- xprotect.go.service: {name: custom, state: started}', way=way)
    standard, custom = fleet.hosts

    # check mode: reports the change, changes nothing
    run = run_playbook(stop, inventory, check_mode=True)
    assert {host: counts['changed'] for host, counts in run.recap.items()} == {'xpgo-001': 1, 'xpgo-002': 1}
    assert set(states(sim_control, standard).values()) == {'Running'}
    assert set(states(sim_control, custom).values()) == {'Running'}

    # apply
    run = run_playbook(stop, inventory)
    assert run.recap['xpgo-001']['changed'] == 1
    assert set(states(sim_control, standard).values()) == {'Stopped'}
    assert set(states(sim_control, custom, CUSTOM).values()) == {'Stopped'}

    # idempotent check, idempotent apply
    for check_mode in (True, False):
        run = run_playbook(stop, inventory, check_mode=check_mode)
        assert all(counts['changed'] == 0 for counts in run.recap.values()), run.stdout

    run = run_playbook(start, inventory, diff=True)
    assert set(states(sim_control, standard).values()) == {'Running'}
    assert '-    "state": "stopped"' in run.stdout or '"state": "stopped"' in run.stdout, 'diff shows the before state'
    for check_mode in (True, False):
        run = run_playbook(start, inventory, check_mode=check_mode)
        assert all(counts['changed'] == 0 for counts in run.recap.values()), run.stdout


def test_restart_keeps_the_recording_server_down_only_for_its_own_stop_and_start(
    fleet, fleet_inventory, write_play, run_playbook, sim_control
):
    host = fleet.hosts[0]
    sim_control.post(host.control_url + '/stats/reset')
    run_playbook(write_play('- xprotect.go.service: {name: standard, state: restarted}', hosts='xpgo-001'), fleet_inventory(fleet))
    history = sim_control.get(host.control_url + '/history')
    recording = [entry for entry in history if entry['service'] == RECORDING_SERVER]
    assert [entry['state'] for entry in recording] == ['Stop Pending', 'Stopped', 'Start Pending', 'Running']
    down = recording[-1]['time'] - recording[0]['time']
    assert down < 0.5 + 2 * 0.25, 'Recording Server down %.2f s for a 0.2 s stop and a 0.3 s start' % down
    others_stopped = [entry['time'] for entry in history if entry['service'] != RECORDING_SERVER and entry['state'] == 'Stopped']
    others_starting = [entry['time'] for entry in history if entry['service'] != RECORDING_SERVER and entry['state'] == 'Start Pending']
    assert len(others_stopped) == 5 and max(others_stopped) <= recording[0]['time'], 'the Recording Server stops last'
    assert len(others_starting) == 5 and min(others_starting) >= recording[-1]['time'], 'and starts first'
    starts = sorted(set(round(t, 1) for t in others_starting))
    assert len(starts) <= 2, 'the other five start together, not one after another: %s' % starts
    assert all(entry['State'] == 'Running' for name, entry in services_of(sim_control, host).items() if name in XPROTECT)


@pytest.mark.parametrize('way', WAYS_IN)
def test_service_info_one_round_trip(way, sim_fleet, fleet_inventory, write_play, run_playbook, sim_control):
    fleet = sim_fleet(3, profile_mix={'standard': 1, 'custom': 1, 'image_server_domain_account': 1})
    sim_control.post(fleet.hosts[1].control_url + '/services/' + RECORDING_SERVER.replace(' ', '%20'), {'State': 'Stopped'})
    for host in fleet.hosts:
        sim_control.post(host.control_url + '/stats/reset')
    play = write_play(
        """
        - xprotect.go.service_info:
          register: info
        - ansible.builtin.copy:
            content: "{{ info | to_json }}"
            dest: "{{ playbook_dir }}/info-{{ inventory_hostname }}.json"
            mode: '0600'
          delegate_to: localhost
          check_mode: false
    """,
        way=way,
    )
    run = run_playbook(play, fleet_inventory(fleet), check_mode=True)
    info = {host.name: json.loads((play.parent / ('info-%s.json' % host.name)).read_text()) for host in fleet.hosts}
    assert info['xpgo-001']['install_type'] == 'standard' and info['xpgo-001']['missing'] == []
    assert info['xpgo-002']['install_type'] == 'custom' and info['xpgo-002']['missing'] == ['event_server', 'mobile_server']
    assert info['xpgo-002']['services']['mobile_server']['installed'] is False
    recording = info['xpgo-001']['services']['recording_server']
    assert recording['name'] == RECORDING_SERVER and recording['state'] == 'started' and recording['process_id'] > 0
    assert recording['start_mode'] == 'auto' and recording['start_name'] == 'LocalSystem' and recording['description']
    assert info['xpgo-003']['services']['image_server']['start_name'].lower() != 'localsystem'
    # has_warning: 2.19 prints warnings on stderr, 2.16 wraps them at 79 columns.
    assert run.has_warning('Image Server service logs on as') and run.has_warning('IP address, not its host name')
    assert run.has_warning('Recording Server service is stopped')
    # One round trip per host; two where an automatic service is down (xpgo-002's Recording Server): its reason is read
    # from the System event log (failures: auto).
    assert [info[host.name]['event_log']['status'] for host in fleet.hosts] == ['not_read', 'read', 'not_read']
    assert info['xpgo-002']['services']['recording_server']['last_failure'] is None, 'stopped, not failed'
    for host in fleet.hosts:
        expected = 2 if host is fleet.hosts[1] else 1
        assert sim_control.get(host.control_url + '/stats')['soap_requests'] == expected, 'one round trip per host'


@pytest.mark.parametrize('way, module_shipped', [('inventory', False), ('delegate', False), ('module', True)])
def test_the_module_is_shipped_only_where_it_must_run_elsewhere(way, module_shipped, sim_fleet, fleet_inventory, write_play, run_playbook):
    """delegate_to: localhost runs in the worker like an inventory host; with become the real module runs (as root, via su)."""
    fleet = sim_fleet(1)
    run = run_playbook(write_play('- xprotect.go.service_info:', way=way), fleet_inventory(fleet), '-vvv')
    assert run.recap['xpgo-001']['ok'] == 1
    assert ('AnsiballZ_service_info.py' in run.stdout) is module_shipped


def test_module_defaults_group_and_no_inventory_connection(sim_fleet, write_play, run_playbook, tmp_path, sim_control):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    host = fleet.hosts[0]
    play = write_play(
        [
            {
                'xprotect.go.service': {'name': 'log_check', 'state': 'stopped'},
                'module_defaults': {
                    'group/xprotect.go.all': {
                        'host': host.address,
                        'port': host.port,
                        'username': fleet.username,
                        'password': fleet.password,
                        'transport': 'basic',
                        'ca_trust_path': fleet.ca_path,
                    }
                },
            }
        ],
        hosts='localhost',
    )
    run_playbook(play, 'localhost,', '-c', 'local')
    assert states(sim_control, host)['Milestone Log Check Service'] == 'Stopped'


def test_environment_variables_are_the_last_resort(sim_fleet, write_play, run_playbook, sim_control):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    host = fleet.hosts[0]
    env = {
        'XPROTECT_GO_HOST': host.address,
        'XPROTECT_GO_PORT': str(host.port),
        'XPROTECT_GO_USERNAME': fleet.username,
        'XPROTECT_GO_PASSWORD': fleet.password,
        'XPROTECT_GO_TRANSPORT': 'basic',
        'XPROTECT_GO_CA_TRUST_PATH': fleet.ca_path,
    }
    run_playbook(
        write_play('- xprotect.go.service: {name: image_import, state: stopped}', hosts='localhost'), 'localhost,', '-c', 'local', env=env
    )
    assert states(sim_control, host)['Milestone Image Import Service'] == 'Stopped'


@pytest.mark.parametrize('auth', ['ntlm', 'certificate'])
def test_other_transports(auth, sim_fleet, fleet_inventory, write_play, run_playbook, sim_control):
    fleet = sim_fleet(1, auth=auth, overrides_per_host=fast_overrides(['standard']))
    run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: restarted}'), fleet_inventory(fleet))
    history = sim_control.get(fleet.hosts[0].control_url + '/history')
    assert [e['state'] for e in history if e['service'] == RECORDING_SERVER] == ['Stop Pending', 'Stopped', 'Start Pending', 'Running']


def test_psrp_inventory_host(sim_fleet, tmp_path, write_play, run_playbook, sim_control):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    host = fleet.hosts[0]
    inventory = tmp_path / 'psrp.yml'
    inventory.write_text(
        'xprotect:\n  hosts:\n    nvr:\n      ansible_connection: psrp\n      ansible_host: %s\n      ansible_port: %d\n'
        '      ansible_user: %s\n      ansible_password: "%s"\n      ansible_psrp_auth: basic\n      ansible_psrp_protocol: https\n'
        '      ansible_psrp_ca_cert: %s\n' % (host.address, host.port, fleet.username, fleet.password, fleet.ca_path)
    )
    run_playbook(write_play('- xprotect.go.service: {name: mobile_server, state: stopped}'), inventory)
    assert states(sim_control, host)['Milestone Mobile Service'] == 'Stopped'


def test_service_names_from_inventory_variable(sim_fleet, fleet_inventory, write_play, run_playbook, sim_control, tmp_path):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    host = fleet.hosts[0]
    # This host's product calls its Recording Server something the catalog does not know.
    sim_control.post(
        host.control_url + '/services/XPGO%20Recorder',
        {'add': True, 'DisplayName': 'Recorder', 'State': 'Running', 'PathName': 'C:\\rec\\rec.exe', 'stop_seconds': 0.2},
    )
    sim_control.post(host.control_url + '/services/' + RECORDING_SERVER.replace(' ', '%20'), {'remove': True})
    inventory = fleet.inventory()
    inventory['all']['children']['xprotect']['vars']['xprotect_go_service_names'] = {'recording_server': 'XPGO Recorder'}
    inventory_path = tmp_path / 'renamed.yml'
    inventory_path.write_text(yaml.safe_dump(inventory))
    run = run_playbook(write_play('- xprotect.go.service_info:'), inventory_path, '-v')
    assert '"name": "XPGO Recorder"' in run.stdout
    run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: stopped}'), inventory_path)
    assert services_of(sim_control, host)['XPGO Recorder']['State'] == 'Stopped'


def test_force_dependents(sim_fleet, fleet_inventory, write_play, run_playbook, sim_control):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    host = fleet.hosts[0]
    sim_control.post(
        host.control_url + '/services/XPGO%20Analytics',
        {'add': True, 'State': 'Running', 'depends_on': [RECORDING_SERVER], 'stop_seconds': 0.1, 'start_seconds': 0.1},
    )
    inventory = fleet_inventory(fleet)
    run = run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: restarted}'), inventory, expect_rc=2)
    assert 'XPGO Analytics' in run.stdout and 'force_dependents' in run.stdout
    assert services_of(sim_control, host)[RECORDING_SERVER]['State'] == 'Running'
    run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: restarted, force_dependents: true}'), inventory)
    history = [(e['service'], e['state']) for e in sim_control.get(host.control_url + '/history')]
    assert history.index(('XPGO Analytics', 'Stopped')) < history.index((RECORDING_SERVER, 'Stop Pending'))
    assert history.index((RECORDING_SERVER, 'Running')) < history.index(('XPGO Analytics', 'Start Pending'))
    assert services_of(sim_control, host)['XPGO Analytics']['State'] == 'Running'
