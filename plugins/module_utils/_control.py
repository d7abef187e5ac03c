# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Seeing and controlling a host's XProtect services: observe, plan, apply.

This is private to the collection: its interface may change without notice.

HostServices talks to Windows (WMI over WS-Management) and nothing else. ServicePlan decides
what to do from what was observed and what was asked; it never talks to Windows. Runner
applies a plan: it issues the StartService/StopService calls a stage at a time as the
dependency order allows, and follows every service in flight with one enumeration per poll.
describe_host() and converge() are what the modules and action plugins call.
"""

from __future__ import annotations

import time

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _wql as wql
from ansible_collections.xprotect.go.plugins.module_utils._wsman import XProtectError

# One vocabulary for options, diff and results.
WINDOWS_STATES = {
    'running': 'started',
    'stopped': 'stopped',
    'start pending': 'start_pending',
    'stop pending': 'stop_pending',
    'continue pending': 'continue_pending',
    'pause pending': 'pause_pending',
    'paused': 'paused',
}
WINDOWS_START_MODES = {'auto': 'auto', 'automatic': 'auto', 'manual': 'manual', 'disabled': 'disabled',
                       'boot': 'boot', 'system': 'system'}
# What ChangeStartMode wants for each of our start modes ('delayed' is Automatic plus a registry value).
WMI_START_MODES = {'auto': 'Automatic', 'delayed': 'Automatic', 'manual': 'Manual', 'disabled': 'Disabled'}

# Win32_Service method return values (Win32_Service.StartService documentation).
RETURN_VALUES = {
    0: 'success', 1: 'not supported', 2: 'access denied', 3: 'dependent services are running',
    4: 'invalid service control', 5: 'the service cannot accept the control now', 6: 'the service is not active',
    7: 'the service did not respond in time', 8: 'unknown failure', 9: 'executable not found',
    10: 'the service is already running', 11: 'the service database is locked', 12: 'a dependency was deleted',
    13: 'a dependency failed to start', 14: 'the service is disabled', 15: 'the service could not log on',
    16: 'the service is marked for deletion', 17: 'the service has no thread', 18: 'circular dependency',
    19: 'duplicate name', 20: 'invalid name', 21: 'invalid parameter', 22: 'invalid service account',
    23: 'the service exists', 24: 'the service is already paused',
}
ACCESS_DENIED = 2
ALREADY_RUNNING = 10

LOCAL_SYSTEM_ACCOUNTS = ('localsystem', '.\\localsystem', 'nt authority\\system', 'system')

HKEY_LOCAL_MACHINE = 2147483650
SERVICES_KEY = 'SYSTEM\\CurrentControlSet\\Services\\'

# Discovery looks for anything Milestone-like besides the catalog's exact names, so unknown
# Milestone services (Management Server, Log Server, ...) can be reported.
_DISCOVERY_LIKE = (('Name', 'Milestone'), ('DisplayName', 'Milestone'), ('PathName', 'Milestone'), ('PathName', 'VideoOS.'))


class ServiceStatus:
    """One Win32_Service instance, in the collection's vocabulary."""

    def __init__(self, record):
        self.name = record.get('Name') or ''
        self.display_name = record.get('DisplayName')
        self.windows_state = record.get('State') or 'Unknown'
        self.state = WINDOWS_STATES.get(self.windows_state.lower(), 'unknown')
        self.windows_start_mode = record.get('StartMode') or 'Unknown'
        delayed = record.get('DelayedAutoStart')
        # Windows Server 2012 and older do not have DelayedAutoStart: None means "not known".
        self.delayed = None if delayed is None else str(delayed).lower() == 'true'
        mode = WINDOWS_START_MODES.get(self.windows_start_mode.lower(), 'unknown')
        self.start_mode = 'delayed' if mode == 'auto' and self.delayed else mode
        self.start_name = record.get('StartName')
        self.process_id = _to_int(record.get('ProcessId'))
        self.exit_code = _to_int(record.get('ExitCode'))
        self.path = record.get('PathName')

    def facts(self):
        return {
            'name': self.name,
            'display_name': self.display_name,
            'state': self.state,
            'windows_state': self.windows_state,
            'start_mode': self.start_mode,
            'start_name': self.start_name,
            'process_id': self.process_id,
            'exit_code': self.exit_code,
            'path': self.path,
        }


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class HostServices:
    """The Windows side: WMI queries and method calls for services on one host."""

    def __init__(self, client, host):
        self.client = client
        self.host = host

    def discover(self, overrides=None, extra_names=()):
        """Every Milestone-like service plus the named ones, in one round trip. Returns Win32_Service records."""
        names = set(extra_names) | set((overrides or {}).values())
        for key in catalog.SERVICE_KEYS:
            names.update(name for name in catalog.known_names(key) if not name.endswith('*'))
        clauses = [wql.like_contains(field, fragment) for field, fragment in _DISCOVERY_LIKE]
        clauses += [wql.like_contains('PathName', executable)
                    for key in catalog.SERVICE_KEYS for executable in catalog.known_executables(key)]
        clauses.append(wql.build_or('Name', sorted(names)))
        return self.client.enumerate('SELECT * FROM Win32_Service WHERE ' + ' OR '.join(clauses))

    def poll(self, names):
        """The current status of the named services, in one round trip."""
        records = self.client.enumerate('SELECT * FROM Win32_Service WHERE ' + wql.build_or('Name', sorted(names)))
        return {record['Name'].lower(): ServiceStatus(record) for record in records}

    def dependents(self, name):
        """The services Windows registered as depending on this one (Win32_DependentService)."""
        query = ('ASSOCIATORS OF {Win32_Service.Name=%s} WHERE AssocClass = Win32_DependentService Role = Antecedent'
                 % wql.quote(name))
        return [ServiceStatus(record) for record in self.client.enumerate(query)]

    def start(self, name):
        return self._control(name, 'StartService')

    def stop(self, name):
        return self._control(name, 'StopService')

    def change_start_mode(self, name, start_mode):
        self._control(name, 'ChangeStartMode', {'StartMode': WMI_START_MODES[start_mode]})
        if start_mode in ('auto', 'delayed'):
            self._set_delayed(name, start_mode == 'delayed')

    def is_delayed(self, name):
        """Read DelayedAutostart from the registry, for Windows versions whose WMI lacks DelayedAutoStart."""
        output = self.client.invoke('StdRegProv', 'GetDWORDValue', params=self._registry_value(name), namespace='root/default')
        return _to_int(output.get('ReturnValue')) == 0 and _to_int(output.get('uValue')) == 1

    def _set_delayed(self, name, delayed):
        params = dict(self._registry_value(name), uValue=1 if delayed else 0)
        output = self.client.invoke('StdRegProv', 'SetDWORDValue', params=params, namespace='root/default')
        code = _to_int(output.get('ReturnValue'))
        if code == 5:
            raise XProtectError('access denied writing the DelayedAutostart registry value: the account needs write '
                                'access to HKLM\\%s%s (or use start_mode auto)' % (SERVICES_KEY, name),
                                host=self.host, service=name, kind='access_denied')
        if code != 0:
            raise XProtectError('could not write the DelayedAutostart registry value (StdRegProv error %s)' % code,
                                host=self.host, service=name, kind='service')

    @staticmethod
    def _registry_value(name):
        return {'hDefKey': HKEY_LOCAL_MACHINE, 'sSubKeyName': SERVICES_KEY + name, 'sValueName': 'DelayedAutostart'}

    def _control(self, name, method, params=None):
        output = self.client.invoke('Win32_Service', method, selectors={'Name': name}, params=params)
        code = _to_int(output.get('ReturnValue'))
        if code == 0 or (code == ALREADY_RUNNING and method == 'StartService'):
            return code
        meaning = RETURN_VALUES.get(code, 'unknown return value')
        if code == ACCESS_DENIED:
            raise XProtectError('access denied to %s (ReturnValue 2): the account needs the right to start and stop this '
                                'service (SERVICE_START, SERVICE_STOP and SERVICE_CHANGE_CONFIG in its security descriptor, '
                                'see the README\'s least-privilege set-up)' % method, host=self.host, service=name, kind='access_denied')
        raise XProtectError('%s failed: %s (ReturnValue %s)' % (method, meaning, code), host=self.host, service=name, kind='service')


def describe_host(services, overrides=None):
    """Everything service_info reports, from one discovery round trip."""
    validate_service_names(overrides)
    records = services.discover(overrides)
    matched = catalog.match_services(records, overrides)
    report = {}
    for key in catalog.SERVICE_KEYS:
        entry = {
            'installed': key in matched,
            'title': catalog.SERVICES[key]['title'],
            'description': catalog.SERVICES[key]['description'],
            'optional': catalog.SERVICES[key]['optional'],
        }
        if key in matched:
            entry.update(ServiceStatus(matched[key]).facts())
        report[key] = entry
    claimed = {record['Name'].lower() for record in matched.values()}
    others = [ServiceStatus(record).facts() for record in records
              if record['Name'].lower() not in claimed and catalog.is_milestone_service(record)]
    return {
        'install_type': catalog.install_type(matched),
        'services': report,
        'missing': [key for key in catalog.SERVICE_KEYS if key not in matched],
        'other_services': sorted(others, key=lambda facts: facts['name'].lower()),
        'warnings': host_warnings(report),
    }


def host_warnings(report):
    """The manual's knowledge, turned into warnings about what was observed."""
    warnings = []
    image_server = report['image_server']
    if image_server['installed'] and (image_server.get('start_name') or '').lower() not in LOCAL_SYSTEM_ACCOUNTS:
        warnings.append('The Image Server service logs on as %s, not Local System: Smart Clients on other computers can '
                        'log in only by this server\'s IP address, not its host name.' % image_server.get('start_name'))
    recording_server = report['recording_server']
    if recording_server['installed'] and recording_server['state'] != 'started':
        warnings.append('The Recording Server service is %s: no video reaches the system until it runs.'
                        % recording_server['state'])
    return warnings


class Target:
    """A service the task asked for, matched to what is installed."""

    def __init__(self, key, status, forced=False):
        self.key = key
        self.status = status
        self.forced = forced  # added because it depends on a service being stopped (force_dependents)
        self.stage = catalog.SERVICES[key]['stage'] if key in catalog.SERVICES else catalog.UNCATALOGUED_STAGE
        self.depends_on = set()  # lower-case names of services this one requires (Windows' registration)

    @property
    def name(self):
        return self.status.name

    @property
    def label(self):
        return self.key if self.key == self.status.name else '%s (%s)' % (self.key, self.status.name)


def expand_names(requested):
    """Turn the name option into [(key or service name, explicit)] with duplicates removed."""
    expanded = []
    for item in requested:
        if item == 'standard':
            expanded += [(key, True) for key in catalog.SERVICE_KEYS]
        elif item == 'custom':
            expanded += [(key, not catalog.SERVICES[key]['optional']) for key in catalog.SERVICE_KEYS]
        elif item == 'all':
            expanded += [(key, False) for key in catalog.SERVICE_KEYS]
        else:
            expanded.append((item, True))
    seen = {}
    for item, explicit in expanded:
        seen[item] = seen.get(item, False) or explicit
    return list(seen.items())


def validate_service_names(service_names):
    """Refuse a service_names mapping with unknown keys or unsafe names. Raises XProtectError(kind='invalid')."""
    for key, name in (service_names or {}).items():
        if key not in catalog.SERVICE_KEYS:
            raise XProtectError('service_names has an unknown key %r; the keys are %s' % (key, ', '.join(catalog.SERVICE_KEYS)),
                                kind='invalid')
        wql.validate_service_name(name)


def validate_request(params):
    """Refuse bad input before anything is sent. Raises XProtectError(kind='invalid')."""
    names = params.get('name') or []
    if not names:
        raise XProtectError('name must list at least one service key, set or service name', kind='invalid')
    for item in names:
        if item not in catalog.SERVICE_KEYS and item not in catalog.SERVICE_SETS:
            wql.validate_service_name(item)
    validate_service_names(params.get('service_names'))
    timeout = params.get('timeout')
    if timeout is not None and not 1 <= timeout <= 86400:
        raise XProtectError('timeout must be between 1 and 86400 seconds, got %s' % timeout, kind='invalid')
    if params.get('start_mode') == 'disabled' and params.get('state') in ('started', 'restarted'):
        raise XProtectError('state %s and start_mode disabled contradict each other: a disabled service cannot run'
                            % params['state'], kind='invalid')


class ServicePlan:
    """What to do, decided from observed status and desired state; talks to nobody."""

    def __init__(self, targets, state, start_mode):
        self.state = state
        self.start_mode = start_mode
        self.start_mode_changes = [t for t in targets if start_mode and t.status.start_mode != start_mode]
        self.steps = []
        for target in targets:
            self.steps += self._steps_for(target)
        self._order()

    def _steps_for(self, target):
        """The service's own chain of steps. A 'wait' step issues nothing: the service is already on its way."""
        state, current = self.state, target.status.state
        if state is None:
            return []
        if current not in ('started', 'stopped', 'start_pending', 'stop_pending'):
            raise XProtectError('the service is %s; xprotect.go does not pause or continue services: bring it back to '
                                'Running or Stopped on the host first' % target.status.windows_state,
                                service=target.name, kind='service')
        chain = []
        if current == 'start_pending':
            chain.append(Step(target, 'start', issue=False))
        elif current == 'stop_pending':
            chain.append(Step(target, 'stop', issue=False))
        running_after_wait = current in ('started', 'start_pending')
        if state in ('stopped', 'restarted') and running_after_wait:
            chain.append(Step(target, 'stop'))
        if state in ('started', 'restarted') and (state == 'restarted' or not running_after_wait):
            chain.append(Step(target, 'start'))
        for earlier, later in zip(chain, chain[1:]):
            later.after.add(earlier)
        return chain

    def _order(self):
        """Order steps across services: start lower stages (and Windows antecedents) first, stop them last."""
        issued = [step for step in self.steps if step.issue]
        for first in issued:
            for second in issued:
                if first.target is second.target or first.action != second.action:
                    continue
                if first.action == 'start' and _starts_before(first.target, second.target):
                    second.after.add(first)
                if first.action == 'stop' and _starts_before(second.target, first.target):
                    second.after.add(first)

    @property
    def changes(self):
        return bool(self.start_mode_changes) or any(step.issue for step in self.steps)


def _starts_before(a, b):
    """Must a be running before b starts (and b stopped before a stops)?"""
    if a.name.lower() in b.depends_on:
        return True
    if b.name.lower() in a.depends_on:
        return False
    return a.stage < b.stage


class Step:
    def __init__(self, target, action, issue=True):
        self.target = target
        self.action = action
        self.issue = issue
        self.after = set()
        self.started_at = None
        self.seconds = None
        self.entry = None  # this step's entry in Runner.log, once sent

    @property
    def done(self):
        return self.seconds is not None

    @property
    def goal(self):
        return 'started' if self.action == 'start' else 'stopped'


class Runner:
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
                                    service=pending[0].target.name, kind='service')
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
            if error.kind != 'unreachable':
                step.entry['failed'] = True
            raise

    def _finished(self, step, status):
        elapsed = self.clock() - step.started_at
        if status is None:
            raise XProtectError('the service disappeared while it was being %s' % ('started' if step.action == 'start' else 'stopped'),
                                service=step.target.name, kind='not_found')
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
        raise XProtectError(failure, service=step.target.name, kind='service')


def converge(services, params, check_mode=False, diff=False, clock=time.monotonic, sleep=time.sleep):
    """Bring the requested services to the requested state; the service module's whole job."""
    validate_request(params)
    overrides = params.get('service_names') or {}
    requested = expand_names(params['name'])
    records = services.discover(overrides, extra_names=[item for item, dummy in requested if item not in catalog.SERVICE_KEYS])
    matched = catalog.match_services(records, overrides)
    key_of = {record['Name'].lower(): key for key, record in matched.items()}
    targets, missing = _targets(services.host, requested, records, matched, key_of, params.get('missing', 'auto'))

    state, start_mode = params.get('state'), params.get('start_mode')
    if state in ('started', 'restarted') and start_mode is None:
        for target in targets:
            if target.status.start_mode == 'disabled':
                raise XProtectError('the service is disabled and cannot be started: set start_mode (auto, delayed or '
                                    'manual) in the task, or enable it on the host', host=services.host, service=target.label, kind='service')
    if start_mode in ('auto', 'delayed'):
        for target in targets:
            if target.status.start_mode == 'auto' and target.status.delayed is None:
                if services.is_delayed(target.name):
                    target.status.start_mode = 'delayed'
    if state in ('stopped', 'restarted'):
        _add_dependents(services, targets, key_of, force=params.get('force_dependents', False))

    before = {t.key: {'state': t.status.state, 'start_mode': t.status.start_mode} for t in targets}
    plan = ServicePlan(targets, state, start_mode)
    runner = Runner(services, params.get('timeout') or 120, clock=clock, sleep=sleep)
    started = clock()
    # 'missing', not 'skipped': Ansible takes a non-empty 'skipped' in a result for a skipped task.
    result = {'missing': missing}
    try:
        if not check_mode:
            runner.apply(plan)
    except XProtectError as error:
        if error.host is None:
            error.host = services.host
        error.result = _service_result(result, targets, plan, runner, before, diff, check_mode, clock() - started)
        raise
    return _service_result(result, targets, plan, runner, before, diff, check_mode, clock() - started)


def _targets(host, requested, records, matched, key_of, missing_policy):
    """Match the requested keys and real names to installed services. Returns (targets, keys of missing services)."""
    by_name = {record['Name'].lower(): record for record in records}
    targets, missing = {}, []
    for item, explicit in requested:
        if item in catalog.SERVICE_KEYS:
            key, record = item, matched.get(item)
        else:
            # A real service name: reported under its catalog key when the catalog knows the service.
            key, record = key_of.get(item.lower(), item), by_name.get(item.lower())
        if record is None:
            skip = missing_policy == 'skip' or (missing_policy == 'auto' and not explicit)
            if not skip:
                raise XProtectError(_missing_message(key), host=host, service=key, kind='not_found')
            missing.append(key)
        elif key not in targets:
            targets[key] = Target(key, ServiceStatus(record))
    return list(targets.values()), missing


def _missing_message(key):
    if key in catalog.SERVICES:
        hint = ' A Custom installation may leave it out: use name: custom or missing: skip.' if catalog.SERVICES[key]['optional'] else ''
        return ('the %s service is not installed.%s If it is installed under a name the catalog does not know, map it with '
                'service_names (or the inventory variable xprotect_go_service_names).' % (catalog.SERVICES[key]['title'], hint))
    return 'no service with this name is installed'


def _add_dependents(services, targets, key_of, force):
    """Learn Windows' dependents of every service to be stopped; stop running ones first only when forced."""
    queue = list(targets)
    while queue:
        target = queue.pop(0)
        if target.status.state == 'stopped':
            continue
        running = []
        for dependent in services.dependents(target.name):
            known = next((t for t in targets if t.name.lower() == dependent.name.lower()), None)
            if known is not None:
                known.depends_on.add(target.name.lower())
            elif dependent.state != 'stopped':
                running.append(dependent)
        if running and not force:
            raise XProtectError('cannot stop it while services that depend on it are running: %s. Stop them first, or set '
                                'force_dependents: true to stop them (and start them again on restart)'
                                % ', '.join(sorted(d.name for d in running)), host=services.host, service=target.label, kind='service')
        for dependent in running:
            added = Target(key_of.get(dependent.name.lower(), dependent.name), dependent, forced=True)
            added.stage = max(added.stage, target.stage + 1)
            added.depends_on.add(target.name.lower())
            targets.append(added)
            queue.append(added)


# Per service in the service module's result; the full picture is service_info's job.
_RESULT_FACTS = ('name', 'display_name', 'state', 'start_mode', 'process_id', 'exit_code')


def _service_result(result, targets, plan, runner, before, diff, check_mode, elapsed):
    """The module's result. Outside check mode it says what was done, which after a failure is less than planned."""
    done = {}
    for entry in runner.log:
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
    changed = plan.changes if check_mode else bool(runner.log)
    result = dict(result, changed=changed, services=services, actions=runner.log, elapsed=round(elapsed, 3))
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
