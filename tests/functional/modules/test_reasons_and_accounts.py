# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Windows' own reason for a failure, and the log-on account, against simulated hosts, every way in.

The simulator keeps a System event log its Service Control Manager writes to and validates Win32_Service.Change
as Windows does; what the modules say is checked against it out of band (the control endpoint).
"""

from __future__ import annotations

import time
import urllib.parse

import pytest

from tests.helpers import WAYS_IN
from tests.functional.modules.helpers import fast_overrides, services_of
from tests.functional.modules.test_service_failures import FAILED, assert_no_secret, fatal_message

RECORDING_SERVER = 'Milestone XProtect Recording Server'
IMAGE_SERVER = 'Milestone Image Server'
LOCAL_PASSWORD = 'Svc-Pass-2024!'  # the simulator's .\xpgo-svc (profiles.ACCOUNTS)
WRONG_PASSWORD = 'Wrong-Svc-Pass-42!'
CRASHED = '(event 7034): The %s service terminated unexpectedly. It has done this 1 time(s).' % RECORDING_SERVER
DENIED = "add it to the Event Log Readers group (or make it an administrator) to see Windows' reason"


def service_url(host, name):
    return '%s/services/%s' % (host.control_url, urllib.parse.quote(name))


@pytest.fixture
def one_host(sim_fleet, fleet_inventory):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    return fleet.hosts[0], fleet_inventory(fleet)


def fail_next_start(sim_control, host):
    sim_control.post(service_url(host, RECORDING_SERVER), {'State': 'Stopped', 'fail_start_exit_code': 1067})


@pytest.mark.parametrize('way', WAYS_IN)
def test_a_failed_start_quotes_the_service_control_manager(way, one_host, write_play, run_playbook, sim_control):
    host, inventory = one_host
    fail_next_start(sim_control, host)
    run = run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: started}', way=way), inventory, expect_rc=FAILED)
    message = fatal_message(run)
    assert 'did not start: it stopped again with exit code 1067' in message and CRASHED in message
    [event] = sim_control.get(host.control_url + '/events')
    assert event['EventCode'] == 7034 and event['TimeGenerated'][:19] in message.replace('Z', '')


@pytest.mark.parametrize('way', WAYS_IN)
def test_without_event_log_readers_everything_works_and_the_message_names_the_right(way, one_host, write_play, run_playbook, sim_control):
    host, inventory = one_host
    sim_control.post(host.control_url + '/rights', {'event_log_readers': False})
    fail_next_start(sim_control, host)
    play = write_play(
        """
        - xprotect.go.service: {name: recording_server, state: started}
          register: started
          ignore_errors: true
        - xprotect.go.service_info: {failures: always}
          register: info
        - ansible.builtin.assert:
            that:
              - started is failed
              - started.msg is search('exit code 1067')
              - started.msg is search("%s$")
              - info.event_log.status == 'denied'
              - "'last_failure' not in info.services.recording_server"
              - info.services.image_server.state == 'started'
    """
        % DENIED.replace('(', '\\\\(').replace(')', '\\\\)'),
        way=way,
    )
    run = run_playbook(play, inventory)
    assert run.has_warning('Event Log Readers group')


def test_service_info_gives_each_service_its_last_failure(one_host, write_play, run_playbook, sim_control):
    host, inventory = one_host
    sim_control.post(service_url(host, IMAGE_SERVER), {'crash_after_seconds': 0, 'recovery_restart_seconds': 0.2})
    play = write_play("""
        - xprotect.go.service_info:
          register: auto
        - xprotect.go.service_info: {failures: always}
          register: asked
        - ansible.builtin.assert:
            that:
              - auto.event_log.status == 'not_read'
              - "'last_failure' not in auto.services.image_server"
              - asked.event_log.status == 'read'
              - asked.services.image_server.last_failure.event_id == 7031
              - asked.services.image_server.last_failure.time is match('^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$')
              - "'Restart the service' in asked.services.image_server.last_failure.message"
              - asked.services.recording_server.last_failure is none
              - asked.verdict == 'degraded'
    """)
    time.sleep(0.5)  # the Service Control Manager restarts it after its recovery delay
    run_playbook(play, inventory)
    assert services_of(sim_control, host)[IMAGE_SERVER]['State'] == 'Running'


@pytest.mark.parametrize('way', WAYS_IN)
def test_account_check_apply_idempotent(way, one_host, write_play, run_playbook, sim_control):
    host, inventory = one_host
    play = write_play(
        """
        - xprotect.go.service:
            name: image_server
            account: .\\xpgo-svc
            account_password: %s
          register: changed
        - ansible.builtin.assert:
            that:
              - changed.services.image_server.start_name == '.\\\\xpgo-svc'
              - changed.restart_required == (changed is changed)
    """
        % LOCAL_PASSWORD,
        way=way,
    )
    run = run_playbook(play, inventory, '-v', check_mode=True, diff=True)
    assert run.recap['xpgo-001']['changed'] == 1
    assert services_of(sim_control, host)[IMAGE_SERVER]['StartName'] == 'LocalSystem', 'check mode changed nothing'
    run = run_playbook(play, inventory, '-v', diff=True)
    assert run.recap['xpgo-001']['changed'] == 1 and '"account": ".\\\\xpgo-svc"' in run.stdout, 'the diff shows the account'
    assert services_of(sim_control, host)[IMAGE_SERVER]['StartName'] == '.\\xpgo-svc'
    for check_mode in (True, False):
        run = run_playbook(play, inventory, '-v', check_mode=check_mode)
        assert run.recap['xpgo-001']['changed'] == 0, run.stdout
    assert_no_secret(run, LOCAL_PASSWORD)


@pytest.mark.parametrize('way', WAYS_IN)
def test_a_wrong_password_is_a_failed_start_with_windows_reason(way, one_host, write_play, run_playbook, sim_control):
    host, inventory = one_host
    play = write_play(
        """
        - xprotect.go.service:
            name: image_server
            account: .\\xpgo-svc
            account_password: %s
            state: restarted
    """
        % WRONG_PASSWORD,
        way=way,
    )
    run = run_playbook(play, inventory, '-vvvv', expect_rc=FAILED)
    message = fatal_message(run)
    assert 'StartService failed: the service could not log on (ReturnValue 15)' in message
    assert (
        '(event 7038): The %s service was unable to log on as .\\xpgo-svc with the currently configured password due to '
        'the following error: The user name or password is incorrect.' % IMAGE_SERVER
    ) in message
    assert services_of(sim_control, host)[IMAGE_SERVER]['State'] == 'Stopped'
    assert_no_secret(run, WRONG_PASSWORD)


def test_one_task_fixes_the_manuals_image_server_caveat(sim_fleet, fleet_inventory, write_play, run_playbook, sim_control):
    fleet = sim_fleet(1, profile_mix={'image_server_domain_account': 1}, overrides_per_host=fast_overrides(['image_server_domain_account']))
    host, inventory = fleet.hosts[0], fleet_inventory(fleet)
    before = sim_control.get(host.control_url + '/history')
    play = write_play("""
        - xprotect.go.service: {name: image_server, account: LocalSystem, state: restarted}
          register: fixed
        - xprotect.go.service_info:
          register: info
        - ansible.builtin.assert:
            that:
              - fixed.restart_required == false
              - fixed.services.image_server.actions == ['change_account', 'stop', 'start']
              - info.services.image_server.start_name == 'LocalSystem'
              - info.reasons | selectattr('rule', 'equalto', 'image_server_account') | list | length == 0
    """)
    run = run_playbook(play, inventory)
    assert not run.has_warning('not Local System')
    assert services_of(sim_control, host)[IMAGE_SERVER]['StartName'] == 'LocalSystem'
    states = [entry['state'] for entry in sim_control.get(host.control_url + '/history')[len(before) :] if entry['service'] == IMAGE_SERVER]
    assert states == ['Stop Pending', 'Stopped', 'Start Pending', 'Running']


def test_windows_refuses_an_unknown_account_with_its_code(one_host, write_play, run_playbook):
    dummy, inventory = one_host
    run = run_playbook(
        write_play('- xprotect.go.service: {name: image_server, account: XPGO\\nobody, account_password: Nobody-1!}'),
        inventory,
        expect_rc=FAILED,
    )
    message = fatal_message(run)
    assert 'Windows refused the account XPGO\\nobody (ReturnValue 22, invalid service account)' in message
    assert_no_secret(run, 'Nobody-1!')
