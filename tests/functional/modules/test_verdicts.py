# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""service_info's verdict and reasons (issue 15) against a simulated fleet with one host per verdict, every way in.

Each host is set up the way an operator's host would get there: a profile (the Image Server on a domain
account), an override at start (a Recording Server set to start manually), or the control API while it runs
(a service stopped, a Recording Server stuck starting, a host refusing connections or answering garbage).
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import WAYS_IN
from tests.functional.modules.helpers import fast_overrides

RECORDING_SERVER = 'Milestone XProtect Recording Server'
EVENT_SERVER = 'MilestoneEventServerService'
PROFILES = ['standard'] * 4 + ['image_server_domain_account'] + ['standard'] * 3
# Host name -> (verdict, [(rule, service), ...] worst first).
EXPECTED = {
    'xpgo-001': ('recording', []),
    'xpgo-002': ('not_recording', [('recording_server_not_running', 'recording_server')]),
    'xpgo-003': ('degraded', [('recording_server_not_automatic', 'recording_server')]),
    'xpgo-004': ('degraded', [('service_down', 'event_server')]),
    'xpgo-005': ('degraded', [('image_server_account', 'image_server')]),
    'xpgo-006': ('not_recording', [('recording_server_starting', 'recording_server')]),
    'xpgo-007': ('unreachable', [('host_unreachable', None)]),
    'xpgo-008': ('unknown', [('host_unreadable', None)]),
}

pytestmark = pytest.mark.slow


def _service_url(host, name):
    return host.control_url + '/services/' + name.replace(' ', '%20')


@pytest.fixture
def fleet(sim_fleet, sim_control):
    """One host per verdict and per rule the simulator can show (recent_failure needs the event log: not yet)."""
    fleet = sim_fleet(
        len(PROFILES),
        profile_mix={'standard': 4, 'image_server_domain_account': 1},
        overrides_per_host=fast_overrides(PROFILES, extra={2: {RECORDING_SERVER: {'StartMode': 'Manual'}}}),
    )
    hosts = fleet.hosts
    assert [host.profile for host in hosts] == PROFILES
    sim_control.post(_service_url(hosts[1], RECORDING_SERVER), {'State': 'Stopped'})
    sim_control.post(_service_url(hosts[3], EVENT_SERVER), {'State': 'Stopped'})
    sim_control.post(_service_url(hosts[5], RECORDING_SERVER), {'State': 'Start Pending', 'stuck': 'Start Pending'})
    sim_control.post(hosts[6].control_url + '/faults', {'refuse': True})
    sim_control.post(hosts[7].control_url + '/faults', {'malformed': 'garbage'})
    return fleet


@pytest.mark.parametrize('way', WAYS_IN)
def test_one_host_per_verdict(way, fleet, fleet_inventory, write_play, run_playbook):
    play = write_play(
        """
        - xprotect.go.service_info:
          register: info
          ignore_errors: true
          ignore_unreachable: true
        - ansible.builtin.copy:
            content: "{{ info | to_json }}"
            dest: "{{ playbook_dir }}/info-{{ inventory_hostname }}.json"
            mode: '0600'
          delegate_to: localhost
          check_mode: false
    """,
        way=way,
    )
    run = run_playbook(play, fleet_inventory(fleet))
    info = {host.name: json.loads((play.parent / ('info-%s.json' % host.name)).read_text()) for host in fleet.hosts}
    found = {
        name: (result['verdict'], [(reason['rule'], reason['service']) for reason in result['reasons']]) for name, result in info.items()
    }
    assert found == EXPECTED
    for result in info.values():
        assert all(set(reason) == {'rule', 'service', 'verdict', 'text'} and reason['text'] for reason in result['reasons'])
    assert info['xpgo-007'].get('unreachable') is True and info['xpgo-008'].get('failed') is True
    assert info['xpgo-007']['reasons'][0]['text'] == info['xpgo-007']['msg'], 'the reason is the error, word for word'
    assert 'alarms, maps, events and status information' in info['xpgo-004']['reasons'][0]['text']
    # The warnings stay what they were: the Recording Server (stopped, or starting) and the Image Server's account, nothing else.
    assert run.has_warning('The Recording Server service is stopped: no video reaches the system until it runs.')
    assert run.has_warning('The Recording Server service is start_pending: it is starting')
    assert run.has_warning('The Image Server service logs on as XPGO\\svc-imageserver, not Local System')
    assert not run.has_warning('Event Server service is stopped') and not run.has_warning('start mode is manual')


def test_a_host_gets_better_as_it_is_fixed(sim_fleet, fleet_inventory, write_play, run_playbook, sim_control):
    """The verdict follows the host: not recording, then degraded once the Recording Server runs, then recording."""
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    sim_control.post(_service_url(fleet.hosts[0], RECORDING_SERVER), {'State': 'Stopped', 'StartMode': 'Manual'})
    checks = []
    for expected, fix in (('not_recording', {'state': 'started'}), ('degraded', {'start_mode': 'auto'}), ('recording', None)):
        checks += [
            {'xprotect.go.service_info': None, 'register': 'info'},
            {
                'ansible.builtin.assert': {
                    'that': 'info.verdict == %r' % expected,
                    'fail_msg': "{{ info.verdict }}: {{ info.reasons | map(attribute='text') | join(' ') }}",
                }
            },
        ]
        if fix:
            checks.append({'xprotect.go.service': dict(fix, name='recording_server')})
    run = run_playbook(write_play(checks), fleet_inventory(fleet))
    assert run.recap['xpgo-001']['changed'] == 2 and run.recap['xpgo-001']['failed'] == 0


def test_a_crash_the_event_log_tells_of_is_degraded_even_once_the_service_runs_again(
    sim_fleet, fleet_inventory, write_play, run_playbook, sim_control
):
    """recent_failure: the Log Check service crashes (event 7034) and is started again; only the System log still knows."""
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    url = _service_url(fleet.hosts[0], 'Milestone Log Check Service')
    sim_control.post(url, {'crash_after_seconds': 0})
    assert sim_control.get(fleet.hosts[0].control_url + '/services')['Milestone Log Check Service']['State'] == 'Stopped'
    sim_control.post(url, {'crash_after_seconds': None})
    sim_control.post(url, {'State': 'Running'})
    play = write_play("""
        - xprotect.go.service_info: {failures: never}
          register: unread
        - xprotect.go.service_info: {failures: always}
          register: read
        - ansible.builtin.copy:
            content: "{{ {'unread': unread, 'read': read} | to_json }}"
            dest: "{{ playbook_dir }}/info.json"
            mode: '0600'
          delegate_to: localhost
    """)
    run_playbook(play, fleet_inventory(fleet))
    info = json.loads((play.parent / 'info.json').read_text())
    assert (info['unread']['verdict'], info['unread']['reasons']) == ('recording', []), 'without the event log it cannot be known'
    read = info['read']
    assert read['services']['log_check']['state'] == 'started' and read['services']['log_check']['last_failure']['event_id'] == 7034
    assert read['verdict'] == 'degraded'
    assert [(reason['rule'], reason['service']) for reason in read['reasons']] == [('recent_failure', 'log_check')]
    assert 'Log Check service ended unexpectedly at' in read['reasons'][0]['text'] and 'it is started now' in read['reasons'][0]['text']
