# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""service_result: what the module says was done, refused, or not known, from the executor's log."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.module_utils._execute import PlanExecutor
from ansible_collections.xprotect.go.plugins.module_utils._plan import ServicePlan, Target
from ansible_collections.xprotect.go.plugins.module_utils._result import service_result
from ansible_collections.xprotect.go.plugins.module_utils._windows import ServiceStatus

OBSERVED = {'state': 'stopped', 'windows_state': 'Stopped', 'start_mode': 'auto', 'at': 2.5}


def target(key, state='Running', mode='Auto'):
    return Target(key, ServiceStatus({'Name': 'Milestone %s' % key, 'State': state, 'StartMode': mode, 'DelayedAutoStart': 'false'}))


def result_of(targets, state, start_mode, log, check_mode=False):
    plan = ServicePlan(targets, state, start_mode)
    executor = PlanExecutor(services=None, timeout=10)
    executor.log.extend(log)
    before = {t.key: {'state': t.status.state, 'start_mode': t.status.start_mode} for t in targets}
    return service_result({'missing': []}, targets, plan, executor, before, True, check_mode, 1.0)


def test_an_unknown_outcome_is_unknown_in_services_and_diff_with_what_was_seen():
    result = result_of(
        [target('recording_server')],
        'stopped',
        None,
        [{'service': 'recording_server', 'action': 'stop', 'unknown': True, 'observed_after_loss': OBSERVED}],
    )
    rs = result['services']['recording_server']
    assert rs['state'] == 'unknown' and rs['observed_after_loss'] == OBSERVED
    assert rs['changed'] is True and rs['actions'] == ['stop'] and rs['seconds'] == {}
    assert result['changed'] is True
    assert result['diff']['after'] == {'recording_server': {'state': 'unknown', 'start_mode': 'auto'}}


def test_a_lost_start_mode_change_leaves_the_start_mode_unknown_not_the_state():
    result = result_of(
        [target('log_check')],
        None,
        'manual',
        [{'service': 'log_check', 'action': 'change_start_mode', 'start_mode': 'manual', 'unknown': True}],
    )
    facts = result['services']['log_check']
    assert facts['start_mode'] == 'unknown' and facts['state'] == 'started'
    assert 'observed_after_loss' not in facts


def test_a_refused_request_is_no_action_and_no_change():
    result = result_of(
        [target('recording_server')], 'stopped', None, [{'service': 'recording_server', 'action': 'stop', 'failed': True, 'refused': True}]
    )
    rs = result['services']['recording_server']
    assert result['changed'] is False and rs['changed'] is False
    assert rs['actions'] == [] and rs['pending'] == ['stop'] and rs['state'] == 'started'
    assert result['actions'] == [{'service': 'recording_server', 'action': 'stop', 'failed': True, 'refused': True}]


def test_a_request_that_was_done_then_failed_is_a_change_with_its_state_seen():
    result = result_of(
        [target('recording_server', state='Stopped')],
        'started',
        None,
        [{'service': 'recording_server', 'action': 'start', 'failed': True, 'seconds': 0.4}],
    )
    rs = result['services']['recording_server']
    assert result['changed'] is True and rs['state'] == 'stopped' and rs['seconds'] == {}


def test_check_mode_predicts_and_knows_nothing_of_losses():
    result = result_of([target('recording_server')], 'stopped', None, [], check_mode=True)
    assert result['changed'] is True
    assert result['services']['recording_server']['actions'] == ['would_stop']
    assert result['services']['recording_server']['state'] == 'stopped'
