# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Truth under faults (issue 13), against simulated hosts: a refusal is no change, a misspelt key is refused with a
suggestion before anything is sent, a skipped name is never silent, and many names never make a query too long."""

from __future__ import annotations

import pytest

from tests.helpers import _parse_stdout
from tests.functional.modules.helpers import fast_overrides

RECORDING_SERVER = 'Milestone XProtect Recording Server'
FAILED = 2
KEY_LIST = 'recording_server, image_server, image_import, log_check, event_server, mobile_server'
WAYS = ('inventory', 'delegate', 'module')


@pytest.fixture
def one_host(sim_fleet, fleet_inventory):
    fleet = sim_fleet(1, overrides_per_host=fast_overrides(['standard']))
    return fleet, fleet.hosts[0], fleet_inventory(fleet)


def failed_result(run, host='xpgo-001'):
    """The host's one failed or unreachable result, whole, from stdout's fatal line (delegated ones print "[host -> localhost]")."""
    output = run.stdout + run.stderr
    assert 'Traceback' not in output, output
    fatal, dummy = _parse_stdout(run.stdout)
    found = [result for (dummy, where), (dummy, dummy, result) in fatal.items() if where.split(' ')[0] == host]
    assert len(found) == 1, run.stdout
    assert '\n' not in found[0]['msg']
    return found[0]


@pytest.mark.parametrize('way', WAYS)
def test_a_refused_first_request_reports_no_change(way, one_host, write_play, run_playbook):
    fleet, host, inventory = one_host
    host.state.configure(RECORDING_SERVER, deny_users=[fleet.username])
    run = run_playbook(write_play('- xprotect.go.service: {name: recording_server, state: stopped}', way=way), inventory, expect_rc=FAILED)
    result = failed_result(run)
    assert 'access denied to StopService (ReturnValue 2)' in result['msg']
    assert result['changed'] is False, 'Windows did nothing'
    assert run.recap['xpgo-001']['changed'] == 0
    rs = result['services']['recording_server']
    assert rs['actions'] == [] and rs['pending'] == ['stop'] and rs['changed'] is False and rs['state'] == 'started'
    assert result['actions'] == [{'service': 'recording_server', 'action': 'stop', 'failed': True, 'refused': True}]
    assert host.state.snapshot()[RECORDING_SERVER]['State'] == 'Running' and host.state.history == []


@pytest.mark.parametrize('way', WAYS)
@pytest.mark.parametrize('missing', ['auto', 'skip'])
def test_a_misspelt_key_fails_with_a_suggestion_before_anything_is_sent(way, missing, one_host, write_play, run_playbook):
    dummy, host, inventory = one_host
    task = '- xprotect.go.service: {name: [log_check, recordng_server], state: stopped, missing: %s}' % missing
    run = run_playbook(write_play(task, way=way), inventory, expect_rc=FAILED)
    assert failed_result(run)['msg'] == (
        "name 'recordng_server' is not a service key: did you mean recording_server? Use a key "
        '(%s), a set (standard, custom, all) or a Windows service name as installed' % KEY_LIST
    )
    assert host.stats.as_dict()['http_requests'] == 0
    assert host.state.history == []


@pytest.mark.parametrize('module', ['service', 'service_info'])
def test_a_misspelt_service_names_key_fails_with_a_suggestion(module, one_host, write_play, run_playbook):
    dummy, host, inventory = one_host
    options = (
        '{name: recording_server, state: started, service_names: {Recording-Server: Recorder}}'
        if module == 'service'
        else '{service_names: {Recording-Server: Recorder}}'
    )
    run = run_playbook(write_play('- xprotect.go.%s: %s' % (module, options)), inventory, expect_rc=FAILED)
    assert "service_names has an unknown key 'Recording-Server' (did you mean recording_server?); the keys are" in failed_result(run)['msg']
    assert host.stats.as_dict()['http_requests'] == 0


@pytest.mark.parametrize('way', WAYS)
def test_missing_skip_lists_and_warns_about_a_name_that_is_not_installed(way, one_host, write_play, run_playbook):
    dummy, host, inventory = one_host
    play = write_play(
        """
        - xprotect.go.service: {name: [log_check, Milestone Recoding Server], state: stopped, missing: skip}
          register: stopped
        - ansible.builtin.assert:
            that:
              - stopped is changed
              - stopped.missing == ['Milestone Recoding Server']
              - stopped.services.keys() | list == ['log_check']
        """,
        way=way,
    )
    run = run_playbook(play, inventory)
    assert run.has_warning(
        "name 'Milestone Recoding Server' is neither a service key nor a service installed on the host: it was skipped (missing: skip)"
    ), run.stderr
    assert host.state.snapshot()['Milestone Log Check Service']['State'] == 'Stopped'


def test_many_long_names_are_discovered_and_polled_in_queries_windows_accepts(one_host, write_play, run_playbook):
    """120 extra services with 200-character names: one query for them all would be about 26,000 characters."""
    dummy, host, inventory = one_host
    names = ['XPGO Extra %03d %s' % (index, 'x' * 185) for index in range(120)]
    for name in names:
        host.state.configure(name, add=True, State='Stopped', start_seconds=0.05)
    host.listener.stats.reset()
    play = write_play(
        [
            {'xprotect.go.service': {'name': ['recording_server'] + names, 'state': 'started'}, 'register': 'started'},
            {'ansible.builtin.assert': {'that': ['started is changed', 'started.services | length == 121', 'started.missing == []']}},
        ]
    )
    run_playbook(play, inventory)
    snapshot = host.state.snapshot()
    assert {snapshot[name]['State'] for name in names} == {'Running'}
    enumerations = host.stats.as_dict()['by_action']['Enumerate']
    # Discovery and every status read took two queries each: never one too long.
    assert enumerations >= 4 and enumerations % 2 == 0, enumerations
