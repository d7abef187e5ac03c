# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults on the wire: one fleet where every host fails its own way, run every way in.

Each failing host ends with one clear line and is marked unreachable or failed; the healthy
host runs every task. Rows of docs/reliability.md ("Faults on the wire").
"""

from __future__ import annotations


import pytest

from tests.helpers import WAYS_IN

from .helpers import RC_UNREACHABLE, Trigger, failure, one_clear_line, play, quick_overrides, without_inventory, write_yaml

# Host index -> (fault, how it is made, inventory variables of that host).
FAULTS = {
    'healthy_tls_trusted_with_ca_trust_path': (None, {}),
    'connection_refused': ({'refuse': True}, {}),
    'connection_reset': ({'reset': True}, {}),
    'tls_certificate_not_trusted': (None, {'ansible_winrm_ca_trust_path': None}),
    'http_401': (None, {'ansible_password': 'Wrong-Wire-Pw-1'}),
    'http_500_wsman_fault': ({'http_500': True}, {}),
    'malformed_garbage': ({'malformed': 'garbage'}, {}),
    'malformed_truncated': ({'malformed': 'truncated'}, {}),
    'slower_than_read_timeout': ({'delay': 5}, {'ansible_winrm_read_timeout_sec': 2, 'ansible_winrm_operation_timeout_sec': 1}),
    'endless_enumeration': ({'endless_enumeration': True}, {}),
}
NAMES = list(FAULTS)
HEALTHY = NAMES[0]

# What each faulted host must show, every way in: its status and message fragments.
EXPECTED = {
    'connection_refused': (
        'unreachable',
        ['cannot connect to the WinRM listener at https://', '(Connection refused)', 'check host (ansible_host) and port (ansible_port)'],
    ),
    'connection_reset': ('unreachable', ['the WinRM listener at https://', 'closed the connection before answering', 'run the task again']),
    'tls_certificate_not_trusted': (
        'failed',
        ['TLS handshake with the WinRM listener', 'CERTIFICATE_VERIFY_FAILED', 'set ca_trust_path (ansible_winrm_ca_trust_path)'],
    ),
    'http_401': (
        'failed',
        ["authentication as 'xpgo-admin' with transport basic failed", 'check username (ansible_user) and password (ansible_password)'],
    ),
    'http_500_wsman_fault': ('failed', ['failed: WS-Management fault InternalError (code 2150859174)']),
    'malformed_garbage': ('failed', ['unexpected reply from the WinRM listener (not valid utf-8 text)']),
    'malformed_truncated': ('failed', ['unexpected reply from the WinRM listener (not well-formed XML']),
    'slower_than_read_timeout': ('unreachable', ['could not get an answer from the WinRM listener', 'within connection_timeout (2 s)']),
    'endless_enumeration': ('failed', ['the enumeration did not end after 100 pages', 'limits 100 pages']),
}
TASKS = """
- name: read
  xprotect.go.service_info:
- name: restart
  xprotect.go.service: {name: log_check, state: restarted}
"""


@pytest.fixture(scope='module')
def wire(module_fleets, module_dir, module_runner):
    """{way: (PlaybookRun, {fault: stats of its host})}: the same faulted fleet, every way in."""
    fleet = module_fleets(len(FAULTS), overrides_per_host=quick_overrides(['standard'] * len(FAULTS)))
    inventory = fleet.inventory()
    hosts = inventory['all']['children']['xprotect']['hosts']
    by_fault = dict(zip(NAMES, fleet.hosts, strict=False))
    for name, (_faults, variables) in FAULTS.items():
        hosts[by_fault[name].name].update(variables)
    path = write_yaml(module_dir / 'wire-inventory.yml', inventory)
    outcome = {}
    for way in WAYS_IN:
        for name, (faults, _variables) in FAULTS.items():
            by_fault[name].listener.stats.reset()
            if faults:
                by_fault[name].faults.update(**faults)
        run = module_runner([play(TASKS, way=way)], path, env={'ANSIBLE_FORKS': str(len(FAULTS))})
        outcome[way] = (run, {name: running.stats.as_dict() for name, running in by_fault.items()}, by_fault)
    return outcome


@pytest.mark.parametrize('way', WAYS_IN)
def test_the_run_ends_with_every_faulted_host_failed_or_unreachable(wire, way):
    run, dummy, by_fault = wire[way]
    # Some host unreachable makes rc 4, every way in (the shipped module's result says unreachable too).
    assert run.rc == RC_UNREACHABLE, run.stdout
    assert 'Traceback' not in run.stdout + run.stderr
    marked = {name: run.recap[running.name]['unreachable'] + run.recap[running.name]['failed'] for name, running in by_fault.items()}
    assert marked == dict({name: 1 for name in EXPECTED}, **{HEALTHY: 0})


@pytest.mark.parametrize('way', WAYS_IN)
def test_healthy_tls_trusted_with_ca_trust_path(wire, way):
    """The healthy host (https, certificate validated against ansible_winrm_ca_trust_path) runs both tasks."""
    run, stats, by_fault = wire[way]
    healthy = by_fault[HEALTHY]
    assert run.recap[healthy.name] == dict(run.recap[healthy.name], ok=2, changed=1, failed=0, unreachable=0)
    assert stats[HEALTHY]['by_action'].get('StopService') == 1 and stats[HEALTHY]['by_action'].get('StartService') == 1
    assert healthy.state.snapshot()['Milestone Log Check Service']['State'] == 'Running'


@pytest.mark.parametrize('way', WAYS_IN)
@pytest.mark.parametrize('fault', sorted(EXPECTED))
def test_wire_fault(wire, way, fault):
    run, stats, by_fault = wire[way]
    running = by_fault[fault]
    status, fragments = EXPECTED[fault]
    result = failure(run, running.name)
    assert result.task == 'read', 'the host stops at its first task'
    assert result.status == status
    # One line: the host's address first, then what failed and what to do.
    one_clear_line(result.result['msg'], *[without_inventory(fragment) if way == 'module' else fragment for fragment in fragments])
    assert result.result['msg'].startswith(running.address + ': ')
    assert run.recap[running.name]['ok'] == 0
    assert not any(r.host.split(' ')[0] == running.name and r.task == 'restart' for r in run.results), 'it went on to the restart'
    assert running.state.history == [], 'nothing was changed on the faulted host'
    if fault == 'endless_enumeration':
        # Bounded: one Enumerate and 99 Pulls, then the client gives up.
        assert stats[fault]['soap_requests'] == 100


@pytest.fixture(scope='module')
def reset_mid_restart(module_fleets, module_dir, module_runner):
    """Two hosts restart; the first one's listener resets every connection once its first services stopped.

    Returns (run, broken host, healthy host, broken host's services right after the run, inventory).
    """
    fleet = module_fleets(2, overrides_per_host=quick_overrides(['standard', 'standard']))
    broken, healthy = fleet.hosts
    inventory = fleet.write_inventory(str(module_dir / 'reset-inventory.yml'))
    with Trigger(broken, 'Milestone Image Server', 'Stopped', lambda: broken.faults.update(reset=True)) as trigger:
        run = module_runner([play('- {name: restart, xprotect.go.service: {name: standard, state: restarted}}')], inventory)
    assert trigger.fired.is_set(), 'the restart never stopped the Image Server'
    return run, broken, healthy, broken.state.snapshot(), inventory


def test_connection_reset_mid_restart(reset_mid_restart, module_runner):
    run, broken, healthy, dummy, inventory = reset_mid_restart
    assert run.rc == RC_UNREACHABLE
    result = failure(run, broken.name)
    assert result.status == 'unreachable'
    one_clear_line(result.result['msg'], broken.address + ': ', 'closed the connection before answering')
    # The other host restarted completely.
    assert run.recap[healthy.name] == dict(run.recap[healthy.name], changed=1, failed=0, unreachable=0)
    assert {entry['State'] for name, entry in healthy.state.snapshot().items() if name.startswith('Milestone')} == {'Running'}

    # Once the host answers again, the same kind of task brings it back: nothing is left half-done for good.
    broken.faults.clear()
    again = module_runner([play('- {name: start, xprotect.go.service: {name: standard, state: started}}', hosts=broken.name)], inventory)
    assert again.rc == 0, again.stdout
    assert {entry['State'] for name, entry in broken.state.snapshot().items() if name.startswith('Milestone')} == {'Running'}


def test_partial_result_after_reset_shows_the_stopped_services(reset_mid_restart):
    """The result of the interrupted task says what was asked for and does not claim stopped services run."""
    run, broken, dummy, services_after, dummy = reset_mid_restart
    result = failure(run, broken.name).result
    assert result['changed'] is True, 'services were stopped: something changed'
    stopped = {entry['Name'] for entry in services_after.values() if entry['State'] != 'Running' and entry['Name'].startswith('Milestone')}
    assert stopped, 'the scenario stops services before the reset'
    reported = {facts['name']: facts for facts in result['services'].values()}
    for name in stopped:
        assert reported[name]['state'] in ('stopped', 'unknown'), reported[name]
        assert reported[name]['actions'] == ['stop'] and reported[name]['pending'] == ['start'], reported[name]
    assert {entry['action'] for entry in result['actions']} == {'stop'}
