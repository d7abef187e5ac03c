# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Building the service module's result (and its diff) from the plan and what was done.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

# Per service in the service module's result; the full picture is service_info's job.
_RESULT_FACTS = ('name', 'display_name', 'state', 'start_mode', 'process_id', 'exit_code')


def service_result(result, targets, plan, executor, before, diff, check_mode, elapsed):
    """The module's result. Outside check mode it says what was done, which after a failure is less than planned."""
    done = {}
    for entry in executor.log:
        done.setdefault(entry['service'], []).append(entry)
    services = {}
    for target in targets:
        planned = ['change_start_mode'] if target in plan.start_mode_changes else []
        planned += [step.action for step in plan.steps if step.target is target and step.issue]
        if check_mode:
            actions = ['would_' + action for action in planned]
        else:
            actions = [entry['action'] for entry in done.get(target.key, [])]
        facts = {field: value for field, value in target.status.facts().items() if field in _RESULT_FACTS}
        facts.update({
            'changed': bool(actions),
            'actions': actions,
            'forced': target.forced,
            'seconds': {entry['action']: entry['seconds'] for entry in done.get(target.key, []) if 'seconds' in entry and not entry.get('failed')},
        })
        if not check_mode and len(actions) < len(planned):
            facts['pending'] = planned[len(actions):]
        if any('seconds' not in entry and not entry.get('failed') for entry in done.get(target.key, [])):
            facts['state'] = 'unknown'  # sent, but the connection was lost before its outcome was seen
        if check_mode or not planned:
            facts.update(_predicted(target, plan))
        services[target.key] = facts
    changed = plan.changes if check_mode else bool(executor.log)
    result = dict(result, changed=changed, services=services, actions=executor.log, elapsed=round(elapsed, 3))
    if diff:
        result['diff'] = {
            'before': before,
            'after': {key: {'state': facts['state'], 'start_mode': facts['start_mode']} for key, facts in services.items()},
        }
    return result


def _predicted(target, plan):
    """State and start mode once the plan has run (for check mode and unchanged services)."""
    predicted = {}
    if plan.state is not None:
        predicted['state'] = 'stopped' if plan.state == 'stopped' else 'started'
    if plan.start_mode is not None:
        predicted['start_mode'] = plan.start_mode
    return predicted
