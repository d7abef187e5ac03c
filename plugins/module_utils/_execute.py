# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Executing a plan: issue each start or stop as the order allows, and wait for it, bounded.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

import time

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

class PlanExecutor:
    """Applies a plan. Every wait is bounded by the per-service timeout."""

    POLL_INTERVAL = 0.1

    def __init__(self, services, timeout, clock=time.monotonic, sleep=time.sleep):
        self.services = services
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        # Every action in the order it was sent: {'service', 'action'}, then 'seconds' once it reached its
        # state, or 'failed'. Logged when sent, so a result after a lost connection still says what was asked.
        self.log = []

    def apply(self, plan):
        for target in plan.start_mode_changes:
            self.services.change_start_mode(target.name, plan.start_mode)
            self.log.append({'service': target.key, 'action': 'change_start_mode', 'start_mode': plan.start_mode})
        self._run_steps(plan.steps)

    def _run_steps(self, steps):
        pending = list(steps)
        in_flight = []
        while pending or in_flight:
            for step in [s for s in pending if all(before.done for before in s.after)]:
                pending.remove(step)
                step.started_at = self.clock()
                if step.issue:
                    self._issue(step)
                in_flight.append(step)
            if not in_flight:
                raise XProtectError('the services\' start order is circular: %s' % ', '.join(s.target.label for s in pending),
                                    service=pending[0].target.name, kind=errors.SERVICE)
            self.sleep(self.POLL_INTERVAL)
            statuses = self.services.poll({step.target.name for step in in_flight})
            for step in list(in_flight):
                status = statuses.get(step.target.name.lower())
                if self._finished(step, status):
                    in_flight.remove(step)

    def _issue(self, step):
        step.entry = {'service': step.target.key, 'action': step.action}
        self.log.append(step.entry)
        try:
            if step.action == 'start':
                self.services.start(step.target.name)
            else:
                self.services.stop(step.target.name)
        except XProtectError as error:
            # Refused (access denied, disabled, ...) or the answer was lost: the request may not have been carried out.
            if error.kind != errors.UNREACHABLE:
                step.entry['failed'] = True
            raise

    def _finished(self, step, status):
        elapsed = self.clock() - step.started_at
        if status is None:
            raise XProtectError('the service disappeared while it was being %s' % ('started' if step.action == 'start' else 'stopped'),
                                service=step.target.name, kind=errors.NOT_FOUND)
        step.target.status = status
        if status.state == step.goal:
            step.seconds = round(elapsed, 3)
            if step.issue:
                step.entry['seconds'] = step.seconds
            return True
        if step.action == 'start' and status.state == 'stopped':
            failure = ('the service did not start: it stopped again with exit code %s after %.1f s; see the Windows event '
                       'log on the host' % (status.exit_code, elapsed))
        elif elapsed > self.timeout:
            failure = ('the service is still %s after %s s (timeout %s s): it did not reach %s; raise timeout if it needs '
                       'longer, or check the host' % (status.windows_state, int(elapsed), self.timeout,
                                                      'Running' if step.goal == 'started' else 'Stopped'))
        else:
            return False
        if step.issue:
            step.entry.update(failed=True, seconds=round(elapsed, 3))
        raise XProtectError(failure, service=step.target.name, kind=errors.SERVICE)
