# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.failure_reason, rollout_outcome and rollout_summary: the rolling_restart role's report,
from the service_info and service results of real restarts."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._roles import rollout_stops

from filter_helpers import load_filter

failure_reason = load_filter('failure_reason')
rollout_outcome = load_filter('rollout_outcome')
rollout_summary = load_filter('rollout_summary')

EXIT_1067 = (
    "127.0.0.6: service 'Milestone XProtect Recording Server': the service did not start: it stopped again with exit "
    'code 1067 after 0.1 s; see the Windows event log on the host'
)
LOST = 'stopped answering during its restart, its services may be down: '


# -- failure_reason ---------------------------------------------------------------------------------


def test_a_loop_names_the_failed_items_only(results):
    failure = results['failed_task']['loop']
    assert [item['failed'] for item in failure['result']['results']] == [True, False, False]
    assert failure_reason(failure['result'], failure['task_name']) == 'Assert every service is started: Recording Server is Stopped'


def test_several_failed_items_are_joined(results):
    failure = results['failed_task']['loop']
    failure['result']['results'][2].update(failed=True, msg='Image Import is Stopped')
    assert failure_reason(failure['result'], 'Check') == 'Check: Recording Server is Stopped Image Import is Stopped'


def test_a_module_failure_gives_its_message(results):
    failure = results['failed_task']['module']
    assert failure_reason(failure['result'], failure['task_name']) == 'Converge the XProtect services: ' + EXIT_1067
    plain = results['failed_task']['plain']
    assert failure_reason(plain['result'], plain['task_name']) == 'Fail plainly: nothing failed before'


def test_a_failure_without_a_message_says_failed():
    assert failure_reason({'failed': True}, 'Converge') == 'Converge: failed'


def test_failure_reason_refuses_a_list():
    with pytest.raises(AnsibleFilterError, match=r'xprotect\.go\.failure_reason: the failed result must be a dictionary, got list'):
        failure_reason([], 'Converge')


# -- rollout_outcome --------------------------------------------------------------------------------


def test_a_restarted_host_lists_each_service_with_its_stop_and_start(results):
    restart = results['service_restart']['standard']
    outcome = rollout_outcome(results['service_info']['standard'], host='xpgo-001', restart=restart, error='')
    assert (outcome['host'], outcome['status']) == ('xpgo-001', 'restarted')
    seconds = {key: service['seconds'] for key, service in restart['services'].items()}
    timings = '; '.join('%s stop %.1f s, start %.1f s' % (key, seconds[key]['stop'], seconds[key]['start']) for key in restart['services'])
    assert outcome['line'] == 'xpgo-001: restarted 6 services in %.1f s (%s)' % (restart['elapsed'], timings)
    assert re.fullmatch(
        r'xpgo-001: restarted 6 services in \d+\.\d s \(recording_server stop \d+\.\d s, start \d+\.\d s; image_server .*'
        r'; mobile_server stop \d+\.\d s, start \d+\.\d s\)',
        outcome['line'],
    )


def test_check_mode_says_what_would_be_restarted_without_times(results):
    outcome = rollout_outcome(results['service_info']['custom'], 'xpgo-005', results['service_restart']['custom_check_mode'], '', True)
    assert outcome == {
        'host': 'xpgo-005',
        'status': 'restarted',
        'left_down': [],
        'line': (
            'xpgo-005: would restart 4 services (recording_server would_stop, would_start; image_server would_stop, would_start; '
            'image_import would_stop, would_start; log_check would_stop, would_start)'
        ),
    }


def test_an_action_without_seconds_and_a_service_without_actions(results):
    # The failed start of a restart whose Recording Server dies: no seconds for its start, nothing done to
    # the services after it. The line keeps each service's key, as the role always printed it.
    restart = results['failed_task']['module']['result']
    outcome = rollout_outcome(results['service_info']['custom'], 'xpgo-005', restart)
    assert outcome['line'] == (
        'xpgo-005: restarted 4 services in %.1f s (recording_server start; image_server ; image_import ; log_check )' % restart['elapsed']
    )


LEFT_DOWN = ['recording_server (stopped)', 'image_server (stopped)', 'image_import (stopped)', 'log_check (stopped)']


def test_a_failed_restart_reports_the_error_and_what_it_left_down(results):
    error = failure_reason(results['failed_task']['module']['result'], 'Converge the XProtect services')
    outcome = rollout_outcome(
        results['service_info']['custom'], 'xpgo-005', results['service_restart']['custom_recording_server_fails'], error
    )
    assert outcome == {
        'host': 'xpgo-005',
        'status': 'failed',
        'left_down': LEFT_DOWN,
        'line': ('xpgo-005: FAILED: Converge the XProtect services: ' + EXIT_1067 + '; left down on the host: ' + ', '.join(LEFT_DOWN)),
    }


def test_the_latest_read_after_the_restart_decides_what_is_left_down(results):
    # The restart went through, then Image Import died during the settle time: the settled read says so.
    settled = results['service_info']['other_service_and_image_import_stopped']
    outcome = rollout_outcome(
        results['service_info']['standard'],
        'xpgo-004',
        results['service_restart']['standard'],
        'Assert the started services kept running in the same process: Image Import did not stay up',
        after=settled,
    )
    assert outcome['left_down'] == ['image_import (stopped)']
    assert outcome['line'].endswith('did not stay up; left down on the host: image_import (stopped)')
    # A Custom installation's services that are not installed are not down.
    custom = results['service_info']['custom']
    assert (
        rollout_outcome(results['service_info']['custom'], 'xpgo-005', after=custom, error='Verify: x')['line']
        == 'xpgo-005: FAILED: Verify: x'
    )


def test_a_host_lost_mid_restart_is_failed_with_the_reason_the_role_gives(results):
    lost = results['service_restart']['lost_mid_restart']
    assert lost['unreachable'] is True
    error = LOST + lost['msg']
    outcome = rollout_outcome(results['service_info']['standard'], 'xpgo-002', lost, error)
    assert outcome['status'] == 'failed' and outcome['line'] == 'xpgo-002: FAILED: ' + error + '; left down on the host: ' + ', '.join(
        '%s (%s)' % (key, 'unknown' if key == 'recording_server' else 'stopped') for key in lost['services']
    )


@pytest.mark.parametrize('shape, status', [('unreachable', 'UNREACHABLE'), ('failed', 'FAILED')])
def test_a_host_that_did_not_answer_before_is_not_restarted(results, shape, status):
    before = results['service_info'][shape]
    # Whatever else is passed, the first read decides: the host was never touched.
    outcome = rollout_outcome(before, 'xpgo-003', results['service_restart']['standard'], 'ignored', False)
    assert outcome == {'host': 'xpgo-003', 'status': status.lower(), 'left_down': [], 'line': 'xpgo-003: %s: %s' % (status, before['msg'])}


def test_no_restart_result_means_no_services(results):
    outcome = rollout_outcome(results['service_info']['standard'], 'xpgo-001')
    assert outcome['line'] == 'xpgo-001: restarted 0 services in 0.0 s ()'


def test_rollout_outcome_refuses_bad_times(results):
    restart = results['service_restart']['standard']
    restart['elapsed'] = 'soon'
    with pytest.raises(
        AnsibleFilterError, match=r"xprotect\.go\.rollout_outcome: the restart result's elapsed must be a number of seconds, got 'soon'"
    ):
        rollout_outcome(results['service_info']['standard'], 'xpgo-001', restart)


# -- when the rollout stops, and its summary ----------------------------------------------------------


@pytest.mark.parametrize(
    'failed, size, percentage, pending, stops',
    [
        (0, 1, 0, ['b'], False),  # nothing failed
        (1, 1, 0, ['b'], True),  # the default: the first failure stops it
        (1, 2, 50, ['c'], False),  # 50 % of the batch is not more than 50 %
        (1, 3, 50, ['d'], False),
        (2, 3, 50, ['d'], True),  # 67 % > 50 %
        (2, 2, 100, ['c'], True),  # the whole batch failed, whatever the percentage
        (1, 1, 0, [], False),  # nothing left to stop
        ('1', '2', '49', ['c'], True),  # as the play keywords arrive from -e
    ],
)
def test_the_rollout_stops_as_ansible_decides(failed, size, percentage, pending, stops):
    assert rollout_stops(failed, size, percentage, pending) is stops


def restarted(host):
    return {'host': host, 'status': 'restarted', 'line': '%s: restarted 6 services in 0.5 s (...)' % host}


def test_a_failed_host_stops_the_rollout_after_its_batch(results):
    failed = rollout_outcome(results['service_info']['custom'], 'xpgo-003', None, 'Converge the XProtect services: ' + EXIT_1067)
    lines = rollout_summary(
        [restarted('xpgo-001'), restarted('xpgo-002'), failed],
        hosts=['xpgo-001', 'xpgo-002', 'xpgo-003', 'xpgo-004'],
        batch=['xpgo-003'],
        max_fail_percentage=0,
        check_mode=False,
    )
    assert lines == [
        'Rolling restart stopped: 2 restarted, 1 failed, 0 unreachable, 1 not restarted, of 4 hosts.',
        restarted('xpgo-001')['line'],
        restarted('xpgo-002')['line'],
        'xpgo-003: FAILED: Converge the XProtect services: ' + EXIT_1067,
        'xpgo-004: not restarted (the rollout stopped before it)',
    ]


def test_a_tolerated_failure_goes_on(results):
    unreachable = rollout_outcome(results['service_info']['unreachable'], 'xpgo-002')
    hosts = ['xpgo-%03d' % number for number in range(1, 7)]
    lines = rollout_summary([restarted('xpgo-001'), unreachable], hosts, ['xpgo-001', 'xpgo-002'], max_fail_percentage=50)
    assert lines[0] == 'Rolling restart so far: 1 restarted, 0 failed, 1 unreachable, 4 not restarted, of 6 hosts.'
    assert lines[2].startswith('xpgo-002: UNREACHABLE: 127.0.0.99: cannot connect')
    assert lines[3:] == ['xpgo-%03d: not restarted yet' % number for number in range(3, 7)]


def test_earlier_batches_failures_do_not_stop_a_later_batch():
    failed = {'host': 'xpgo-002', 'status': 'failed', 'line': 'xpgo-002: FAILED: x'}
    lines = rollout_summary(
        [restarted('xpgo-001'), failed, restarted('xpgo-003')],
        ['xpgo-001', 'xpgo-002', 'xpgo-003', 'xpgo-004'],
        ['xpgo-003'],
        max_fail_percentage=50,
    )
    assert lines[0] == 'Rolling restart so far: 2 restarted, 1 failed, 0 unreachable, 1 not restarted, of 4 hosts.'
    assert lines[-1] == 'xpgo-004: not restarted yet'


def test_a_whole_check_mode_rollout_is_done(results):
    check = [
        rollout_outcome(results['service_info']['custom'], host, results['service_restart']['custom_check_mode'], '', True)
        for host in ('xpgo-001', 'xpgo-002', 'xpgo-003')
    ]
    lines = rollout_summary(check, ['xpgo-001', 'xpgo-002', 'xpgo-003'], ['xpgo-003'], check_mode=True)
    assert (
        lines[0]
        == 'Rolling restart (check mode, nothing was restarted) done: 3 would be restarted, 0 failed, 0 unreachable, 0 not restarted, of 3 hosts.'
    )
    assert lines[1:] == [outcome['line'] for outcome in check]


def test_the_summary_refuses_outcomes_it_cannot_place():
    with pytest.raises(
        AnsibleFilterError, match=r'xprotect\.go\.rollout_summary: outcome 0 needs host, status and line: build it with rollout_outcome'
    ):
        rollout_summary([{'status': 'restarted', 'line': 'x'}], ['a'], ['a'])
    with pytest.raises(AnsibleFilterError, match=r"max_fail_percentage must be a whole number, got 'ten'"):
        rollout_summary([restarted('a')], ['a', 'b'], ['a'], max_fail_percentage='ten')
