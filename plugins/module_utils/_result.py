# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Building the service module's result (and its diff) from the plan and what was done.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _accounts as accounts

if t.TYPE_CHECKING:
    from ansible_collections.xprotect.go.plugins.module_utils._execute import PlanExecutor

# Per service in the service module's result; the full picture is service_info's job.
_RESULT_FACTS = ('name', 'display_name', 'state', 'start_mode', 'process_id', 'exit_code')


def service_result(
    result: dict,
    targets: t.List[t.Any],
    plan: t.Any,
    executor: PlanExecutor,
    before: t.Dict[str, t.Any],
    diff: bool,
    check_mode: bool,
    elapsed: float,
) -> dict:
    """The module's result. Outside check mode it says what was done, which after a failure is less than planned.

    A request Windows refused did nothing: it is not among a service's actions and changes nothing. A request
    whose outcome is not known (its answer was lost) makes what it was about ``unknown`` (state, or start mode
    for change_start_mode), with what a status read saw afterwards as ``observed_after_loss``.
    """
    done: t.Dict[str, t.List[t.Dict[str, t.Any]]] = {}
    for entry in executor.log:
        done.setdefault(entry['service'], []).append(entry)
    services = {}
    for target in targets:
        planned = ['change_account'] if target in plan.account_changes else []
        planned += ['change_start_mode'] if target in plan.start_mode_changes else []
        planned += [step.action for step in plan.steps if step.target is target and step.issue]
        entries = done.get(target.key, [])
        if check_mode:
            actions = ['would_' + action for action in planned]
        else:
            actions = [entry['action'] for entry in entries if not entry.get('refused')]
        facts = {field: value for field, value in target.status.facts().items() if field in _RESULT_FACTS}
        facts.update(
            {
                'changed': bool(actions),
                'actions': actions,
                'forced': target.forced,
                'seconds': {entry['action']: entry['seconds'] for entry in entries if 'seconds' in entry and not entry.get('failed')},
            }
        )
        if not check_mode and len(actions) < len(planned):
            facts['pending'] = planned[len(actions) :]
        if check_mode or not planned:
            facts.update(_predicted(target, plan))
        if plan.account is not None:
            facts.update(_account_facts(target, plan, entries, facts, check_mode))
        facts.update(_unknown(entries))
        services[target.key] = facts
    changed = plan.changes if check_mode else executor.changed
    result = dict(result, changed=changed, services=services, actions=executor.log, elapsed=round(elapsed, 3))
    if plan.account is not None:
        result['restart_required'] = any(facts.get('restart_required') for facts in services.values())
    if diff:
        result['diff'] = {'before': before, 'after': {key: _diff_after(facts, plan) for key, facts in services.items()}}
    return result


def _diff_after(facts, plan):
    """A service's state afterwards; ``restarted: true`` when it was (or in check mode would be) stopped and started
    again, which its state alone (started before and after) does not show."""
    after = {'state': facts['state'], 'start_mode': facts['start_mode']}
    if plan.account is not None:
        after['account'] = facts['start_name']
    planned = [action for action in facts['actions'] if action.startswith('would_')]
    done = planned or ['would_' + action for action in facts['seconds']]
    if 'would_stop' in done and 'would_start' in done:
        after['restarted'] = True
    return after


def _account_facts(target, plan, entries, facts, check_mode):
    """start_name afterwards and restart_required: the account was changed, and the service runs on under the old one
    (Windows applies a log-on account when the service starts; a start later in this task applied it)."""
    if check_mode:
        changing = target in plan.account_changes
        started_after = any(step.target is target and step.issue and step.action == 'start' for step in plan.steps)
        start_name = accounts.start_name(plan.account) if changing else target.status.start_name
    else:
        done = [index for index, entry in enumerate(entries) if entry['action'] == 'change_account' and 'seconds' in entry]
        changing = bool(done)
        started_after = changing and any(
            entry['action'] == 'start' and 'seconds' in entry and not entry.get('failed') for entry in entries[done[0] + 1 :]
        )
        start_name = target.status.start_name
    running = facts.get('state') in ('started', 'start_pending')
    return {'start_name': start_name, 'restart_required': bool(changing and running and not started_after)}


def _unknown(entries):
    """What requests with an unknown outcome leave unknown about their service, and what was seen after the loss."""
    facts: t.Dict[str, t.Any] = {}
    for entry in (entry for entry in entries if entry.get('unknown')):
        if entry['action'] == 'change_start_mode':
            facts['start_mode'] = 'unknown'
        elif entry['action'] == 'change_account':
            facts['start_name'] = 'unknown'
        else:
            # Its process and exit code from before the request say nothing about now either.
            facts.update(state='unknown', process_id=None, exit_code=None)
        if 'observed_after_loss' in entry:
            facts['observed_after_loss'] = entry['observed_after_loss']
    return facts


def _predicted(target, plan):
    """State and start mode once the plan has run (for check mode and unchanged services)."""
    predicted = {}
    if plan.state is not None:
        predicted['state'] = 'stopped' if plan.state == 'stopped' else 'started'
    if plan.start_mode is not None:
        predicted['start_mode'] = plan.start_mode
    return predicted
