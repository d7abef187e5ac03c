# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Executing a plan: issue each start or stop as the order allows, and wait for it, bounded.

This is private to the collection: its interface may change without notice.

What the log says about each request it sent (the module result's ``actions``):
- ``seconds``: it reached its state (``failed`` too when it did not, e.g. it stopped again);
- ``refused``: Windows answered no (access denied, disabled, ...): nothing was done;
- ``unknown``: its answer, or the status reads after it, never came: whether it was carried out is
  not known. One status read within what is left of the timeout then says what it saw
  (``observed_after_loss``), as an observation, never as the outcome.
"""

from __future__ import annotations

import time
import typing as t
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.xprotect.go.plugins.module_utils import _accounts as accounts
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _eventlog as eventlog
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._watch import MAX_WAIT, Watch
from ansible_collections.xprotect.go.plugins.module_utils._windows import MAX_SESSIONS

# Failures of a request after which its outcome is not known: the answer never came (connection
# lost or reset, read timeout, the WinRM operation timeout) or came unreadable.
ANSWER_LOST = (errors.UNREACHABLE, errors.TIMEOUT, errors.PROTOCOL)
METHODS = {'start': 'StartService', 'stop': 'StopService', 'change_start_mode': 'ChangeStartMode', 'change_account': 'Change'}
# StartService refusals the Service Control Manager's events explain (time-out, unknown failure, executable missing,
# a dependency that failed, log-on failure, no thread): the message then quotes Windows' reason.
EXPLAINED_REFUSALS = (7, 8, 9, 13, 15, 17)

# The most StartService/StopService calls sent at the same time, each over a WinRM session of its own.
MAX_CONCURRENT_CALLS = MAX_SESSIONS


class PlanExecutor:
    """Applies a plan. Every wait, and the status read after a lost answer, ends within the timeout of its request.

    Waits are guided by Windows, not a fixed tick. A pending service reports a WaitHint: the time within which it
    promises its next report, a new CheckPoint or its new state (SERVICE_STATUS). The hint counts from its latest
    report, taken as made when the request was answered, or after the read that still saw the CheckPoint before it.
    So each service has a due time: that moment plus its hint. One read at the due time sees the state reached
    when the hint is right; an earlier read could only see it still pending. Of the services in flight, only the
    due times that hold up the plan count: the next read is at the earliest moment a waiting step may be issued
    (the latest due time among the steps it comes after), or when every step in flight is due. A hint that is too
    long costs wall time, at most MAX_WAIT per read; one that is too short, or 0, costs reads (the back-off).
    """

    def __init__(
        self, services: t.Any, timeout: float, clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep
    ) -> None:
        self.services = services
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        # Every request in the order it was sent: {'service', 'action'} and what became of it (see the
        # module docstring). Logged when sent, so a result after a lost connection still says what was asked.
        self.log: t.List[t.Dict[str, t.Any]] = []
        self._requests: t.List[t.Any] = []
        self._watches: t.Dict[t.Any, Watch] = {}  # each step in flight: what its status reads said, for timing the next

    @property
    def changed(self) -> bool:
        """Whether anything may have been done: a request was sent that Windows did not refuse."""
        return any(not entry.get('refused') for entry in self.log)

    def apply(self, plan: t.Any) -> None:
        try:
            for target in plan.account_changes:
                self._change_account(target, plan.account, plan.password)
            for target in plan.start_mode_changes:
                self._change_start_mode(target, plan.start_mode)
            self._run_steps(plan.steps)
        finally:
            # Whatever ended the run (a failure, a lost answer), a request without an outcome has an unknown one.
            for request in self._requests:
                if not request.settled:
                    request.entry['unknown'] = True

    def _send(self, target, action, **extra):
        entry = dict({'service': target.key, 'action': action}, **extra)
        request = Request(entry, target, METHODS[action], self.clock())
        self.log.append(entry)
        self._requests.append(request)
        return request

    def _call(self, request, method, call, first=True):
        """Carry out one method call of a request; a refusal or a lost answer is recorded and raised."""
        try:
            return call()
        except XProtectError as error:
            if error.kind in ANSWER_LOST:
                raise self._lost(error, [request], sent=method) from None
            # Windows answered no: nothing was done by this call (and by the request, when it was its first call).
            request.entry.update(failed=True, refused=first)
            if request.entry['action'] == 'start' and getattr(error, 'return_value', None) in EXPLAINED_REFUSALS:
                error.message = '%s; %s' % (error.message, self._why(request.target))
            raise

    def _why(self, target):
        """Windows' reason for a service's failure, from the System log: one more round trip, made only now that there is
        a failure to explain. Never raises: a reason that cannot be read says so."""
        read = eventlog.read_failures(self.services, eventlog.SERVICE_LOOKBACK_MINUTES)
        return read.explain((target.status.display_name, target.name), eventlog.SERVICE_LOOKBACK_MINUTES)

    def _change_account(self, target, account, password):
        """Set the log-on account (and password) with Win32_Service.Change; it applies from the service's next start."""
        name = accounts.start_name(account)
        request = self._send(
            target, 'change_account', account=name, password_sent=password is not None and accounts.takes_password(account)
        )
        self._call(request, 'Change', lambda: self.services.change_account(target.name, account, password))
        target.status.start_name = name
        request.entry['seconds'] = round(self.clock() - request.sent_at, 3)

    def _change_start_mode(self, target, start_mode):
        request = self._send(target, 'change_start_mode', start_mode=start_mode)
        status = target.status
        automatic = start_mode in ('auto', 'delayed')
        self._call(request, 'ChangeStartMode', lambda: self.services.change_start_mode(target.name, start_mode))
        # Windows accepted it (ReturnValue 0): that is the start mode now; Automatic is delayed as the registry says so far.
        status.start_mode = ('delayed' if status.delayed else 'auto') if automatic else start_mode
        if automatic:
            self._call(
                request,
                'SetDWORDValue (DelayedAutostart)',
                lambda: self.services.set_delayed(target.name, start_mode == 'delayed'),
                first=False,
            )
            status.delayed, status.start_mode = start_mode == 'delayed', start_mode
        request.entry['seconds'] = round(self.clock() - request.sent_at, 3)

    def _run_steps(self, steps):
        pending = list(steps)
        in_flight: t.List[t.Any] = []
        while pending or in_flight:
            ready = [s for s in pending if all(before.done for before in s.after)]
            calls = [step for step in ready if step.issue]
            answered = (self._issue_together(calls) if len(calls) > 1 else None) or {}
            for step in ready:
                pending.remove(step)
                if step not in answered:
                    step.started_at = self.clock()
                    if step.issue:
                        self._issue(step)
                # From the answer: the service may have begun its change any time until then, not before the request
                # reached the host (a due time counted from the request's sending is early by the way there).
                self._watches[step] = Watch(answered[step] if step in answered else self.clock())
                in_flight.append(step)
            if not in_flight:
                raise XProtectError(
                    "the services' start order is circular: %s" % ', '.join(s.target.label for s in pending),
                    service=pending[0].target.name,
                    kind=errors.SERVICE,
                )
            self._pause(in_flight, pending)
            read_at = self.clock()
            # At the due times the plan waits on, the read's own time is on the critical path: a Get of each service
            # at once takes that of one Get, a quarter of a query's (HostServices.poll). Other reads (the first after
            # a request, which learns the hints, and back-off reads) are one query.
            statuses = self._read(in_flight, each=all(self._watches[step].at_due for step in in_flight))
            for step in list(in_flight):
                status = statuses.get(step.target.name.lower())
                if self._finished(step, status):
                    in_flight.remove(step)
                else:
                    self._watches[step].saw(status, read_at)

    def _issue(self, step):
        self._log_request(step)
        call = _control(self.services, step)
        self._call(step.request, METHODS[step.action], lambda: call(step.target.name))

    def _log_request(self, step):
        step.request = self._send(step.target, step.action)
        step.entry = step.request.entry

    def _issue_together(self, steps):
        """Send the calls of steps the order lets go at the same time concurrently, each over a session of its own.
        Returns {step: when its answer came}, or None (and sends nothing) when the host's client cannot be copied:
        then they go one after another (_issue).

        Each request is logged before any is sent, in the plan's order. Once every answer is in, the first failure in
        that order is raised as _call raises it; a later refusal is recorded as refused, a later lost answer left unknown.
        """
        copies = getattr(self.services, 'copies', None)
        batches = [steps[i : i + MAX_CONCURRENT_CALLS] for i in range(0, len(steps), MAX_CONCURRENT_CALLS)]
        sessions = [self.services] + (copies(len(batches[0]) - 1) if copies else [])
        if len(sessions) < len(batches[0]):
            return None
        for step in steps:
            step.started_at = self.clock()
            self._log_request(step)
        outcomes = []
        for batch in batches:
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                outcomes += list(pool.map(self._attempt, sessions, batch))
        failures = [(step, error) for step, (error, _answered) in zip(steps, outcomes, strict=True) if error is not None]
        for step, error in failures[1:]:
            if error.kind not in ANSWER_LOST:
                step.entry.update(failed=True, refused=True)
        if failures:
            step, error = failures[0]
            self._call(step.request, METHODS[step.action], _raising(error))
        return {step: answered for step, (_error, answered) in zip(steps, outcomes, strict=True)}

    def _attempt(self, services, step):
        """One start or stop call over the given session: (the XProtectError it raised or None, when it ended)."""
        try:
            _control(services, step)(step.target.name)
        except XProtectError as error:
            return error, self.clock()
        return None, self.clock()

    def _pause(self, in_flight, pending):
        """Sleep until the next status read may let the plan go on, at most MAX_WAIT, never past the first deadline of
        a step in flight (where a read then says the step timed out)."""
        now = self.clock()
        deadline = min(step.started_at + self.timeout for step in in_flight)
        wake = min(self._wake_at(in_flight, pending), now + MAX_WAIT, deadline)
        self.sleep(max(0.0, wake - now))

    def _wake_at(self, in_flight, pending):
        """The earliest moment a read can change what happens next: a waiting step may be issued once every step it
        comes after is done; with nothing waiting, the run ends once every step in flight is."""
        reads = {step: self._watches[step].next_read() for step in in_flight}
        ready = [step for step in pending if all(before.done or before in reads for before in step.after)]
        if not ready:
            return max(reads.values())
        return min(max(reads[before] for before in step.after if before in reads) for step in ready)

    def _read(self, in_flight, each=False):
        try:
            return self.services.poll({step.target.name for step in in_flight}, each=each)
        except XProtectError as error:
            waiting = [step.request for step in in_flight if step.issue]
            if not waiting:
                raise  # nothing was sent that waits for this read (only services already on their way)
            raise self._lost(error, waiting) from None

    def _lost(self, error, requests, sent=None):
        """The error to raise after a lost answer: says what was sent, that its outcome is not known, and what
        one status read within what is left of the timeout saw (or why there was none).

        requests: those whose answer (sent) or status read was lost; other requests still waiting are as unknown.
        """
        others = [request for request in self._requests if not request.settled and request not in requests]
        every = list(requests) + others
        for request in every:
            request.entry['unknown'] = True
        observed = self._read_after_loss(every)
        message = _lost_message(error, requests, others, sent, observed, self.timeout)
        return XProtectError(message, host=error.host, kind=error.kind)

    def _read_after_loss(self, requests):
        """One bounded status read: ('seen', statuses), ('failed', error) or ('skipped', seconds left)."""
        left = min(request.sent_at for request in requests) + self.timeout - self.clock()
        bound = getattr(self.services, 'request_timeout', None)
        if left <= 0 or (bound is not None and left < bound):
            return 'skipped', (max(0.0, left), bound)
        try:
            statuses = self.services.poll({request.target.name for request in requests})
        except XProtectError as error:
            return 'failed', error
        now = self.clock()
        for request in requests:
            status = statuses.get(request.target.name.lower())
            if status is not None:
                request.entry['observed_after_loss'] = {
                    'state': status.state,
                    'windows_state': status.windows_state,
                    'start_mode': status.start_mode,
                    'process_id': status.process_id,
                    'exit_code': status.exit_code,
                    'at': round(now - request.sent_at, 3),
                }
        return 'seen', statuses

    def _finished(self, step, status):
        elapsed = self.clock() - step.started_at
        if status is None:
            raise XProtectError(
                'the service disappeared while it was being %s' % ('started' if step.action == 'start' else 'stopped'),
                service=step.target.name,
                kind=errors.NOT_FOUND,
            )
        step.target.status = status
        if status.state == step.goal:
            step.seconds = round(elapsed, 3)
            if step.issue:
                step.entry['seconds'] = step.seconds
            return True
        if step.action == 'start' and status.state == 'stopped':
            failure = 'the service did not start: it stopped again with exit code %s after %.1f s; %s' % (
                status.exit_code,
                elapsed,
                self._why(step.target),
            )
        elif elapsed >= self.timeout:
            failure = (
                'the service is still %s after %s s (timeout %s s): it did not reach %s; raise timeout if it needs '
                'longer, or check the host'
                % (status.windows_state, int(elapsed), self.timeout, 'Running' if step.goal == 'started' else 'Stopped')
            )
        else:
            return False
        if step.issue:
            step.entry.update(failed=True, seconds=round(elapsed, 3))
        raise XProtectError(failure, service=step.target.name, kind=errors.SERVICE)


class Request:
    """One request sent to Windows: its log entry, the target it was about, the WMI method and when it was sent."""

    def __init__(self, entry: t.Dict[str, t.Any], target: t.Any, method: str, sent_at: float) -> None:
        self.entry = entry
        self.target = target
        self.method = method
        self.sent_at = sent_at

    @property
    def settled(self) -> bool:
        """Its outcome is known: it reached its state, failed, or Windows refused it."""
        return 'seconds' in self.entry or bool(self.entry.get('failed'))

    @property
    def what(self) -> str:
        return "%s sent to '%s'" % (self.method, self.target.name)


def _control(services, step):
    """The StartService or StopService call a step makes, over the given session."""
    return services.start if step.action == 'start' else services.stop


def _raising(error):
    """A call that raises error: a failure met in another thread, for _call to record and raise as its own."""

    def call():
        raise error

    return call


def _lost_message(error, requests, others, sent, observed, timeout):
    """One line: what was sent, that the answer never came (the original reason), what a read afterwards saw, what to do."""
    if sent:
        lost = "%s was sent to '%s' but no answer came (%s): its outcome is not known" % (sent, requests[0].target.name, error.message)
    else:
        lost = 'no answer came to a status read while waiting for %s (%s): %s outcome is not known' % (
            ' and '.join(request.what for request in requests),
            error.message,
            'its' if len(requests) == 1 else 'their',
        )
    if others:
        lost += ', nor that of %s' % ' and '.join(request.what for request in others)
    return '%s; %s. Check the host and read the services (xprotect.go.service_info) before running the task again' % (
        lost,
        _observation(list(requests) + others, observed, timeout),
    )


def _observation(requests, observed, timeout):
    how, detail = observed
    if how == 'skipped':
        left, bound = detail
        if left <= 0:
            return 'no status read was tried: nothing of the timeout (%s s) was left' % timeout
        return 'no status read was tried: %.1f s of the timeout (%s s) was left, less than one read may take (connection_timeout %s s)' % (
            left,
            timeout,
            bound,
        )
    if how == 'failed':
        return 'a status read afterwards got no answer either (%s)' % detail.message
    seen, missing = [], []
    for request in requests:
        status = detail.get(request.target.name.lower())
        if status is None:
            missing.append("'%s'" % request.target.name)
            continue
        state = status.windows_state
        if request.method == 'ChangeStartMode':
            state += ' with start mode %s' % status.start_mode
        elif request.method == 'Change':
            state += ' logging on as %s' % status.start_name
        seen.append(state if len(requests) == 1 else "'%s' %s" % (request.target.name, state))
    if len(requests) == 1:
        return 'a status read afterwards ' + ('saw it %s' % seen[0] if seen else 'did not find it')
    parts = (['saw ' + ', '.join(seen)] if seen else []) + (['did not find ' + ', '.join(missing)] if missing else [])
    return 'a status read afterwards ' + ' and '.join(parts)
