# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The playbooks (and through them the services, rolling_restart and fleet_report roles) against
simulated fleets of mixed profiles. Every outcome is checked in the simulator's own state, not only
in Ansible's output."""

from __future__ import annotations

import json

import pytest

from .helpers import (
    RECORDING_SERVER,
    SETTLE,
    XPROTECT_NAMES,
    parse_report,
    service_url,
    validate_report,
    xprotect_state_set,
    xprotect_states,
)

pytestmark = pytest.mark.slow

MIXED = {'standard': 1, 'custom': 1, 'image_server_domain_account': 1}
IMAGE_IMPORT = 'Milestone Image Import Service'
# A service that crashes this long after its start, and a settle time that outlasts it.
CRASH_AFTER, CRASH_SETTLE = 4, 8


def snapshots(sim):
    """Every host's whole service table and history: what "nothing changed" is checked against."""
    return {running.name: (running.state.snapshot(), running.state.history) for running in sim.fleet.hosts}


def first_event(running, service, state):
    return next(event['time'] for event in running.state.history if event['service'] == service and event['state'] == state)


@pytest.mark.compat
def test_status_report_shows_every_host_as_it_is(xprotect_fleet, run_playbook, sim_control, tmp_path):
    sim = xprotect_fleet(dict(MIXED, standard=3), 5, extra={1: {RECORDING_SERVER: {'State': 'Stopped'}}})
    assert [running.profile for running in sim.fleet.hosts] == ['standard', 'standard', 'standard', 'custom', 'image_server_domain_account']
    failing, stopped, unreachable, custom, domain = sim.names
    # A listener answering HTTP 500 to everything fails the query; a refused connection is unreachable.
    sim_control.post(sim.host(failing).control_url + '/faults', {'http_500': True})
    sim_control.post(sim.host(unreachable).control_url + '/faults', {'refuse': True})
    before = snapshots(sim)

    # Read-only anyway, but check mode and --diff must run it all the same; the report goes to $PWD.
    run = run_playbook('playbooks/status.yml', sim.inventory, check_mode=True, diff=True, env={'PWD': str(tmp_path)})

    assert snapshots(sim) == before

    report = parse_report(tmp_path / 'xprotect-fleet-report.html')
    assert list(report.hosts) == sim.names
    verdicts = {failing: 'unknown', stopped: 'not_recording', unreachable: 'unreachable', custom: 'recording', domain: 'degraded'}
    assert {name: host['verdict'] for name, host in report.hosts.items()} == verdicts
    # Problems first: the counts, one tile per host, the hosts needing attention worst first, then every host, collapsed.
    assert report.order[:3] == ['counts', 'tiles', 'attention'] and report.order[3:] == ['h-%s' % name for name in sim.names]
    assert report.counts == {'not_recording': 1, 'unknown': 1, 'unreachable': 1, 'degraded': 1, 'recording': 1}
    assert [(name, verdict) for name, verdict, _title in report.tiles] == list(verdicts.items())
    assert report.tiles[1][2] == '%s: not recording' % stopped
    assert [(name, shown) for name, shown, _reasons in report.attention] == [
        (stopped, 'not recording'),
        (failing, 'unknown'),
        (unreachable, 'unreachable'),
        (domain, 'degraded'),
    ]
    assert report.attention[0][2] == ['The Recording Server service is stopped: no video reaches the system until it runs.']
    assert not any(host['open'] for host in report.hosts.values())
    assert 'not_recording' in report.hosts[stopped]['classes'] and 'Unknown: ' in report.hosts[failing]['text']
    assert 'Unreachable: ' in report.hosts[unreachable]['text'] and 'Connection refused' in report.hosts[unreachable]['text']
    assert report.hosts[unreachable]['rows'] == {}
    # State classes: the stopped Recording Server, the Custom installation's absent services.
    assert 'state-stopped' in report.hosts[stopped]['rows']['recording_server']
    assert all('state-started' in report.hosts[stopped]['rows'][key] for key in ('image_server', 'mobile_server'))
    assert 'state-absent' in report.hosts[custom]['rows']['event_server']
    assert 'state-absent' in report.hosts[custom]['rows']['mobile_server']
    assert 'state-started' in report.hosts[custom]['rows']['recording_server']
    assert any(
        'Image Server' in text and 'Local System' in text and 'XPGO\\svc-imageserver' in text for text in report.hosts[domain]['reasons']
    )
    assert any('Recording Server' in text for text in report.hosts[stopped]['reasons'])
    # Self-contained and coloured by class: inline CSS with a colour per verdict and state, no scripts, nothing fetched.
    assert 'script' not in report.tags and 'link' not in report.tags and report.external == [] and report.inline_styles == 0
    assert '.not_recording { --v: #cf222e' in report.style and '.recording { --v: #1a7f37' in report.style
    assert '.state-started { background: #dafbe1' in report.style and '.state-stopped { background: #ffebe9' in report.style

    document = json.loads((tmp_path / 'xprotect-fleet-report.json').read_text(encoding='utf-8'))
    validate_report(document)
    assert document['summary'] == {'hosts': 5, 'not_recording': 1, 'unknown': 1, 'unreachable': 1, 'degraded': 1, 'recording': 1}
    assert document['attention'] == [stopped, failing, unreachable, domain]
    hosts = {host['name']: host for host in document['hosts']}
    assert hosts[custom]['install_type'] == 'custom' and hosts[custom]['running'] == 4
    assert hosts[stopped]['services']['recording_server']['state'] == 'stopped'
    assert [item['rule'] for item in hosts[stopped]['reasons']] == ['recording_server_not_running']
    # The plain-text summary in the play output; unreachable and failed hosts do not fail the report.
    assert 'XProtect Go fleet status: 5 hosts, 1 recording, 1 degraded, 1 not recording, 1 unknown, 1 unreachable' in run.stdout
    # The role runs once for the play (include_role with run_once): one host in the recap, and nothing failed.
    assert len(run.recap) == 1 and not any(counts['failed'] or counts['unreachable'] for counts in run.recap.values())


def test_fail_on_not_recording_fails_the_run_after_the_report(xprotect_fleet, run_playbook, tmp_path):
    sim = xprotect_fleet({'standard': 2, 'image_server_domain_account': 1}, 3, extra={1: {RECORDING_SERVER: {'State': 'Stopped'}}})
    healthy, stopped, domain = sim.names
    # Not set: the same fleet passes, whatever its verdicts.
    run_playbook('playbooks/status.yml', sim.inventory, env={'PWD': str(tmp_path)})

    (tmp_path / 'xprotect-fleet-report.json').unlink()
    run = run_playbook(
        'playbooks/status.yml',
        sim.inventory,
        '-e',
        '{"fleet_report_fail_on": ["not_recording", "unreachable"]}',
        env={'PWD': str(tmp_path)},
        expect_rc=2,
    )
    # The reports are written first; then one task fails, naming the host and its verdict.
    validate_report(json.loads((tmp_path / 'xprotect-fleet-report.json').read_text(encoding='utf-8')))
    assert '1 of 3 hosts have a verdict of fleet_report_fail_on (not_recording, unreachable): %s (not recording).' % stopped in ' '.join(
        run.stdout.split()
    )
    assert sum(counts['failed'] for counts in run.recap.values()) == 1
    assert 'XProtect Go fleet status: 3 hosts, 1 recording, 1 degraded, 1 not recording, 0 unknown, 0 unreachable' in run.stdout
    # Degraded is not among them: no failure for the domain account alone.
    assert domain not in ' '.join(run.stdout.split()).split('fleet_report_fail_on (not_recording, unreachable):')[1]

    refused = run_playbook(
        'playbooks/status.yml', sim.inventory, '-e', '{"fleet_report_fail_on": ["failed"]}', env={'PWD': str(tmp_path)}, expect_rc=2
    )
    assert 'fleet_report_fail_on' in refused.stdout and 'not_recording' in refused.stdout


def test_a_relative_report_dir_is_taken_from_where_ansible_playbook_runs(xprotect_fleet, run_playbook, tmp_path):
    sim = xprotect_fleet({'standard': 1}, 1)
    (tmp_path / 'reports').mkdir()
    run_playbook('playbooks/status.yml', sim.inventory, '-e', 'fleet_report_dir=reports', env={'PWD': str(tmp_path)})
    assert (tmp_path / 'reports' / 'xprotect-fleet-report.json').is_file()
    assert (
        'HTML report: %s' % (tmp_path / 'reports' / 'xprotect-fleet-report.html')
        in run_playbook('playbooks/status.yml', sim.inventory, '-e', 'fleet_report_dir=reports', env={'PWD': str(tmp_path)}).stdout
    )

    missing = run_playbook('playbooks/status.yml', sim.inventory, '-e', 'fleet_report_dir=nowhere', env={'PWD': str(tmp_path)}, expect_rc=2)
    said = ' '.join(missing.stdout.split())
    assert "relative to the directory ansible-playbook is run from (the shell's PWD, here %s)" % tmp_path in said
    assert 'got "nowhere", that is "%s"' % (tmp_path / 'nowhere') in said


@pytest.mark.compat
def test_stop_and_start_check_mode_order_and_idempotence(xprotect_fleet, run_playbook):
    sim = xprotect_fleet(MIXED, 3)
    before = snapshots(sim)

    check = run_playbook('playbooks/stop.yml', sim.inventory, check_mode=True, diff=True)
    assert snapshots(sim) == before, 'check mode changed the fleet'
    assert '-        "state": "started"' in check.stdout and '+        "state": "stopped"' in check.stdout

    run_playbook('playbooks/stop.yml', sim.inventory, diff=True)
    for running in sim.fleet.hosts:
        assert xprotect_state_set(running) == {'Stopped'}
        assert running.state.snapshot()['RpcSs']['State'] == 'Running'
        # Stopping, the Recording Server goes last.
        stopped_at = {name: first_event(running, name, 'Stopped') for name in xprotect_states(running)}
        assert max(stopped_at, key=stopped_at.get) == RECORDING_SERVER

    stopped = snapshots(sim)
    run_playbook('playbooks/start.yml', sim.inventory, *SETTLE, check_mode=True, diff=True)
    assert snapshots(sim) == stopped, 'check mode changed the fleet'

    start = run_playbook('playbooks/start.yml', sim.inventory, *SETTLE, diff=True)
    assert 'Pausing for 1 seconds' in start.stdout
    for running in sim.fleet.hosts:
        assert xprotect_state_set(running) == {'Running'}
        # Starting, the Recording Server comes first.
        running_at = {name: first_event(running, name, 'Running') for name in xprotect_states(running)}
        assert min(running_at, key=running_at.get) == RECORDING_SERVER

    converged = snapshots(sim)
    for running in sim.fleet.hosts:
        running.stats.reset()
    again = run_playbook('playbooks/start.yml', sim.inventory, *SETTLE)
    # The first play found every host converged: the second play had no host, and the recap lists the one host the
    # first play's task ran for.
    assert again.recap == {sim.names[0]: dict(again.recap[sim.names[0]], changed=0, failed=0, unreachable=0)}
    assert 'Pausing' not in again.stdout and 'skipping: no hosts matched' in again.stdout
    assert snapshots(sim) == converged
    # A converged host is verified by that one read: one WS-Management request per host.
    assert [running.stats.as_dict()['soap_requests'] for running in sim.fleet.hosts] == [1] * len(sim.fleet.hosts)


def test_start_works_only_on_the_hosts_not_started_and_fails_the_others_as_the_role_does(xprotect_fleet, run_playbook, sim_control):
    """The first play reads every host in one task; the converged host costs that read and no task, the others go
    through the services role as before: started, failed or unreachable, with the role's own messages."""
    sim = xprotect_fleet(dict(MIXED, standard=3), 5, extra={1: {RECORDING_SERVER: {'State': 'Stopped'}}})
    converged, stopped, failing, unreachable, disabled = sim.names
    sim_control.post(sim.host(failing).control_url + '/faults', {'http_500': True})
    sim_control.post(sim.host(unreachable).control_url + '/faults', {'refuse': True})
    sim_control.post(service_url(sim.host(disabled), RECORDING_SERVER), {'StartMode': 'Disabled', 'State': 'Stopped'})
    before = snapshots(sim)

    check = run_playbook('playbooks/start.yml', sim.inventory, *SETTLE, check_mode=True, diff=True, expect_rc=None)
    assert snapshots(sim) == before, 'check mode changed the fleet'
    assert '+        "state": "started"' in check.stdout

    for running in sim.fleet.hosts:
        running.stats.reset()
    run = run_playbook('playbooks/start.yml', sim.inventory, *SETTLE, expect_rc=None)

    assert run.rc == 4, 'Ansible exits 4 when a host was unreachable, before 2 for failed ones'
    assert sim.host(converged).stats.as_dict()['soap_requests'] == 1, 'more than the one read of the first play'
    assert sim.host(converged).state.history == before[converged][1]
    worked_on = {result.host.split(' ')[0] for result in run.results if result.play == 'Start the XProtect Go services'}
    assert worked_on == {stopped, failing, unreachable, disabled}
    assert xprotect_state_set(sim.host(stopped)) == {'Running'} and run.recap[stopped]['changed'] > 0
    assert run.recap[unreachable]['unreachable'] == 1 and run.recap[failing]['failed'] == 1
    assert run.recap[disabled]['failed'] == 1
    failures = {result.host.split(' ')[0]: result for result in run.results if result.status in ('failed', 'unreachable')}
    assert set(failures) == {failing, unreachable, disabled}
    assert all(result.task.endswith('Converge the XProtect services') for result in failures.values())
    assert 'the service is disabled and cannot be started' in failures[disabled].result['msg']


def test_rolling_restart_stops_at_the_host_that_fails(xprotect_fleet, run_playbook, sim_control, tmp_path):
    # standard, domain-account Image Server, custom (fails), standard (must stay untouched)
    sim = xprotect_fleet({'standard': 1, 'image_server_domain_account': 1, 'custom': 1}, 4)
    first, second, custom, last = sim.names
    # The custom host's Recording Server stops again right after every start.
    sim_control.post(service_url(sim.host(custom), RECORDING_SERVER), {'fail_start_exit_code': 1067})
    before = {name: xprotect_states(sim.host(name)) for name in sim.names}

    run = run_playbook('playbooks/restart.yml', sim.inventory, *SETTLE, expect_rc=2)

    for name in (first, second):
        after = xprotect_states(sim.host(name))
        assert all(state == 'Running' for state, _pid in after.values())
        assert all(after[service][1] != before[name][service][1] for service in after), 'not restarted: %s' % name
    assert sim.host(custom).state.snapshot()[RECORDING_SERVER]['State'] == 'Stopped'
    assert sim.host(custom).state.snapshot()[RECORDING_SERVER]['ExitCode'] == 1067
    assert sim.host(last).state.history == [], 'the rollout went on past the failed host'
    # One host per batch: never two Recording Servers down at once.
    downs = sorted(
        (first_event(sim.host(name), RECORDING_SERVER, 'Stop Pending'), first_event(sim.host(name), RECORDING_SERVER, 'Running'))
        for name in (first, second)
    )
    assert all(earlier[1] <= later[0] for earlier, later in zip(downs, downs[1:], strict=False))

    assert 'Rolling restart stopped: 2 restarted, 1 failed, 0 unreachable, 1 not restarted, of 4 hosts.' in run.stdout
    assert '%s: restarted 6 services in' % first in run.stdout and 'recording_server stop ' in run.stdout
    assert '%s: restarted 4 services in' % custom not in run.stdout
    assert '%s: FAILED: ' % custom in run.stdout and 'exit code 1067' in run.stdout
    # Which services the failed restart left down, as the simulator has them.
    down = ['%s (stopped)' % key for key in ('recording_server', 'image_server', 'image_import', 'log_check')]
    assert 'left down on the host: %s' % ', '.join(down) in run.stdout
    assert {name for name, (state, _pid) in xprotect_states(sim.host(custom)).items() if state != 'Running'} == {
        RECORDING_SERVER,
        'Milestone Image Server',
        IMAGE_IMPORT,
        'Milestone Log Check Service',
    }
    assert '%s: not restarted (the rollout stopped before it)' % last in run.stdout
    assert run.recap[custom]['failed'] == 1 and last not in run.recap

    # The status report afterwards shows the host whose Recording Server is down.
    run_playbook('playbooks/status.yml', sim.inventory, env={'PWD': str(tmp_path)})
    report = parse_report(tmp_path / 'xprotect-fleet-report.html')
    assert report.hosts[custom]['verdict'] == 'not_recording'
    assert 'state-stopped' in report.hosts[custom]['rows']['recording_server']
    assert any('Recording Server' in text for text in report.hosts[custom]['reasons'])
    assert report.hosts[first]['verdict'] == 'recording'


def test_rolling_restart_refuses_a_batch_larger_than_allowed_and_check_mode_restarts_nothing(xprotect_fleet, run_playbook):
    sim = xprotect_fleet({'standard': 1, 'custom': 1}, 3)
    run = run_playbook('playbooks/restart.yml', sim.inventory, '-e', 'rolling_restart_serial=2', expect_rc=2)
    assert 'could leave 2 Recording Servers down at once' in run.stdout
    assert all(running.state.history == [] for running in sim.fleet.hosts)

    before = snapshots(sim)
    check = run_playbook(
        'playbooks/restart.yml',
        sim.inventory,
        '-e',
        'rolling_restart_serial=50%',
        '-e',
        'rolling_restart_max_recording_servers_down=2',
        check_mode=True,
        diff=True,
    )
    assert snapshots(sim) == before, 'check mode restarted something'
    assert 'Rolling restart (check mode, nothing was restarted) done: 3 would be restarted' in check.stdout
    assert '%s: would restart 4 services (recording_server would_stop, would_start;' % sim.names[1] in check.stdout
    # --diff shows what would be stopped and started again, though the state is started before and after.
    assert '+        "restarted": true' in check.stdout


def test_start_goes_on_past_an_unreachable_host_and_catches_a_crash(xprotect_fleet, run_playbook, sim_control):
    stopped = {name: {'State': 'Stopped'} for name in XPROTECT_NAMES}
    crashing = dict(stopped)
    # It dies after the role's read-back (within seconds of the start, even on a loaded machine) and
    # before the settle check: only the settle check can catch it.
    crashing[IMAGE_IMPORT] = {'State': 'Stopped', 'crash_after_seconds': CRASH_AFTER}
    # The unreachable host comes first: the batch's settle pause must not depend on it.
    sim = xprotect_fleet(MIXED, 3, extra={1: {name: dict(value) for name, value in stopped.items()}, 2: crashing})
    unreachable, healthy, crashes = sim.names
    sim_control.post(sim.host(unreachable).control_url + '/faults', {'refuse': True})

    run = run_playbook('playbooks/start.yml', sim.inventory, '-e', 'services_settle_seconds=%d' % CRASH_SETTLE, expect_rc=None)

    assert run.rc != 0
    assert run.recap[unreachable]['unreachable'] == 1
    assert run.recap[healthy]['failed'] == 0 and run.recap[crashes]['failed'] == 1
    assert xprotect_state_set(sim.host(healthy)) == {'Running'}
    assert sim.host(crashes).state.snapshot()[IMAGE_IMPORT]['State'] == 'Stopped'
    assert 'Pausing for %d seconds' % CRASH_SETTLE in run.stdout
    assert 'Image Import (%s) did not stay up' % IMAGE_IMPORT in run.stdout


def test_the_standard_set_needs_all_six_services(xprotect_fleet, run_playbook):
    sim = xprotect_fleet({'standard': 1, 'custom': 1}, 2)
    standard, custom = sim.names
    run = run_playbook('playbooks/start.yml', sim.inventory, '-e', 'services_set=standard', expect_rc=2)
    assert run.recap[standard]['failed'] == 0
    assert run.recap[custom]['failed'] == 1
    assert run.task('xprotect.go.services : Converge the XProtect services', custom).result['msg'].count('not installed') == 1
    everything = run_playbook('playbooks/stop.yml', sim.inventory, '-e', 'services_set=all')
    assert everything.recap[custom]['failed'] == 0
    assert xprotect_state_set(sim.host(custom)) == {'Stopped'}
