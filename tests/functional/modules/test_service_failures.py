# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every failure a user can meet: one clear line naming host, service and fix; never a traceback or a password."""

from __future__ import annotations

import pytest
import yaml

from tests.helpers import WAYS_IN
from tests.functional.modules.helpers import fast_overrides

RECORDING_SERVER = 'Milestone%20XProtect%20Recording%20Server'
FAILED, UNREACHABLE = 2, 4


def fatal_message(run, host='xpgo-001'):
    """The msg of the host's one fatal line, after checking the output holds no traceback and no password."""
    output = run.stdout + run.stderr
    assert 'Traceback' not in output, output
    failures = [r for r in run.results if r.host.startswith(host) and r.status in ('failed', 'unreachable')]
    assert len(failures) == 1, run.stdout
    message = failures[0].result['msg']
    assert '\n' not in message
    return message


def assert_no_secret(run, *secrets):
    for secret in secrets:
        assert secret not in run.stdout and secret not in run.stderr


@pytest.fixture
def one_host(sim_fleet, fleet_inventory):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    return fleet, fleet.hosts[0], fleet_inventory(fleet)


def edit_inventory(path, **group_vars):
    data = yaml.safe_load(open(path, encoding='utf-8'))
    data['all']['children']['xprotect']['vars'].update(group_vars)
    with open(path, 'w', encoding='utf-8') as stream:
        yaml.safe_dump(data, stream)
    return path


@pytest.mark.parametrize('way', WAYS_IN)
def test_wrong_password(way, one_host, write_play, run_playbook):
    fleet, dummy, inventory = one_host
    edit_inventory(inventory, ansible_password='Wrong-Pass-987!')
    run = run_playbook(write_play('- xprotect.go.service_info:', way=way), inventory, '-vvvv', expect_rc=FAILED)
    message = fatal_message(run)
    # The shipped module (-module) gets the host's settings as task options: its hint names the options.
    assert "authentication as '%s'" % fleet.username in message
    assert ('check username and password' if way == 'module' else 'password (ansible_password)') in message
    assert_no_secret(run, 'Wrong-Pass-987!', fleet.password)


def test_untrusted_certificate_then_trusted_with_ca_trust_path(one_host, write_play, run_playbook):
    fleet, dummy, inventory = one_host
    edit_inventory(inventory, ansible_winrm_ca_trust_path=None)
    play = write_play('- xprotect.go.service_info:')
    message = fatal_message(run_playbook(play, inventory, expect_rc=FAILED))
    assert 'certificate' in message.lower() and 'ca_trust_path' in message
    edit_inventory(inventory, ansible_winrm_ca_trust_path=fleet.ca_path)
    run_playbook(play, inventory)


@pytest.mark.parametrize('way', WAYS_IN)
def test_host_down_is_unreachable_and_the_others_go_on(way, sim_fleet, fleet_inventory, write_play, run_playbook, sim_control):
    fleet = sim_fleet(2, overrides_per_host=fast_overrides(['standard', 'standard']))
    sim_control.post(fleet.hosts[0].control_url + '/faults', {'refuse': True})
    play = write_play(
        """
        - xprotect.go.service: {name: log_check, state: stopped}
        - xprotect.go.service: {name: log_check, state: started}
    """,
        way=way,
    )
    run = run_playbook(play, fleet_inventory(fleet), expect_rc=UNREACHABLE)
    message = fatal_message(run, 'xpgo-001')
    assert 'cannot connect' in message and str(fleet.hosts[0].port) in message
    assert run.recap['xpgo-001']['unreachable'] == 1
    assert run.recap['xpgo-002']['changed'] == 2 and run.recap['xpgo-002']['failed'] == 0


def test_answer_slower_than_the_read_timeout(one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    edit_inventory(inventory, ansible_winrm_read_timeout_sec=3, ansible_winrm_operation_timeout_sec=2)
    sim_control.post(host.control_url + '/faults', {'delay': 6})
    run = run_playbook(write_play('- xprotect.go.service_info:'), inventory, expect_rc=UNREACHABLE)
    assert 'connection_timeout' in fatal_message(run)


def test_stuck_in_stop_pending_times_out_with_the_state_reached(one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    sim_control.post(host.control_url + '/services/Milestone%20Log%20Check%20Service', {'stuck': 'Stop Pending'})
    run = run_playbook(write_play('- xprotect.go.service: {name: log_check, state: stopped, timeout: 2}'), inventory, expect_rc=FAILED)
    message = fatal_message(run)
    assert "service 'Milestone Log Check Service'" in message and 'Stop Pending' in message and 'timeout 2' in message


def test_fails_to_start_reports_exit_code(one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    sim_control.post(host.control_url + '/services/' + RECORDING_SERVER, {'State': 'Stopped', 'fail_start_exit_code': 1067})
    run = run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: started}'), inventory, expect_rc=FAILED)
    assert 'exit code 1067' in fatal_message(run)


@pytest.mark.parametrize('way', WAYS_IN)
def test_access_denied_names_the_right(way, one_host, write_play, run_playbook, sim_control):
    fleet, host, inventory = one_host
    sim_control.post(host.control_url + '/services/' + RECORDING_SERVER, {'deny_users': [fleet.username]})
    run = run_playbook(
        write_play('- xprotect.go.service: {name: recording_server, state: restarted}', way=way), inventory, expect_rc=FAILED
    )
    message = fatal_message(run)
    assert 'access denied' in message and 'SERVICE_STOP' in message and 'Milestone XProtect Recording Server' in message


def test_unknown_service(one_host, write_play, run_playbook):
    dummy, dummy, inventory = one_host
    run = run_playbook(write_play('- xprotect.go.service: {name: "Milestone Nonexistent", state: started}'), inventory, expect_rc=FAILED)
    assert "service 'Milestone Nonexistent'" in fatal_message(run) and 'installed' in fatal_message(run)


def test_wsman_fault(one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    sim_control.post(host.control_url + '/faults', {'http_500': True})
    message = fatal_message(run_playbook(write_play('- xprotect.go.service_info:'), inventory, expect_rc=FAILED))
    assert 'WS-Management' in message or 'fault' in message.lower()


def test_malformed_reply(one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    sim_control.post(host.control_url + '/faults', {'malformed': 'truncated'})
    message = fatal_message(run_playbook(write_play('- xprotect.go.service_info:'), inventory, expect_rc=FAILED))
    assert 'unexpected reply' in message


def test_disabled_service_asked_to_start(one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    sim_control.post(host.control_url + '/services/Milestone%20Image%20Server', {'State': 'Stopped', 'StartMode': 'Disabled'})
    message = fatal_message(
        run_playbook(write_play('- xprotect.go.service: {name: image_server, state: started}'), inventory, expect_rc=FAILED)
    )
    assert 'disabled' in message and 'start_mode' in message
    assert sim_control.get(host.control_url + '/services')['Milestone Image Server']['State'] == 'Stopped'


@pytest.mark.parametrize('name', ["x' OR Name LIKE '%", 'Milestone*'])
def test_unsafe_name_is_refused_before_anything_is_sent(name, one_host, write_play, run_playbook, sim_control):
    dummy, host, inventory = one_host
    sim_control.post(host.control_url + '/stats/reset')
    play = write_play([{'xprotect.go.service': {'name': name, 'state': 'stopped'}}])
    assert 'invalid service name' in fatal_message(run_playbook(play, inventory, expect_rc=FAILED))
    assert sim_control.get(host.control_url + '/stats')['http_requests'] == 0


def test_the_answer_to_the_read_at_the_due_time_lost_is_reported_as_any_lost_read(one_host, write_play, run_playbook, sim_control):
    """The read a stage waits on, at the time Windows said the service would be done, is a Get of each service in flight
    (not a query); its answer lost, the outcome is unknown and one read afterwards says what it saw."""
    dummy, host, inventory = one_host
    # Slow enough that the first read after the StopService sees it Stop Pending and learns its hint.
    sim_control.post(host.control_url + '/services/' + RECORDING_SERVER, {'stop_seconds': 2.0})
    name = 'Milestone XProtect Recording Server'
    sim_control.post(host.control_url + '/faults', {'lose_answer': {'method': 'Get', 'how': 'reset', 'service': name}})
    run = run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: stopped}'), inventory, expect_rc=UNREACHABLE)
    message = fatal_message(run)
    assert "no answer came to a status read while waiting for StopService sent to '%s'" % name in message
    assert 'its outcome is not known; a status read afterwards saw it Stopped' in message
    stats = sim_control.get(host.control_url + '/stats')
    assert stats['lost_answers'] == {'Get': 1}, 'the Get at the due time, not the query before it'
