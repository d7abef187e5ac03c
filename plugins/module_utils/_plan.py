# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning: which services a task means, and what to do to each, in which order. Talks to nobody
except through HostServices when it must learn dependents.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _accounts as accounts
from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _wql as wql
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._specs import TASK_TIMEOUT_MAX, TASK_TIMEOUT_MIN
from ansible_collections.xprotect.go.plugins.module_utils._windows import ServiceStatus


class Target:
    """A service the task asked for, matched to what is installed."""

    def __init__(self, key: str, status: ServiceStatus, forced: bool = False) -> None:
        self.key = key
        self.status = status
        self.forced = forced  # added because it depends on a service being stopped (force_dependents)
        self.stage = t.cast(int, catalog.SERVICES[key]['stage']) if key in catalog.SERVICES else catalog.UNCATALOGUED_STAGE
        self.depends_on: t.Set[str] = set()  # lower-case names of services this one requires (Windows' registration)

    @property
    def name(self) -> str:
        return self.status.name

    @property
    def label(self) -> str:
        return self.key if self.key == self.status.name else '%s (%s)' % (self.key, self.status.name)


def expand_names(requested: t.Iterable[str]) -> t.List[t.Tuple[str, bool]]:
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
    seen: t.Dict[str, bool] = {}
    for item, explicit in expanded:
        seen[item] = seen.get(item, False) or explicit
    return list(seen.items())


def _key_list():
    return 'the keys are %s' % ', '.join(catalog.SERVICE_KEYS)


def validate_service_names(service_names: dict | None) -> None:
    """Refuse a service_names mapping with unknown keys or unsafe names. Raises XProtectError(kind=errors.INVALID)."""
    for key, name in (service_names or {}).items():
        if key not in catalog.SERVICE_KEYS:
            near = [choice for choice in catalog.near_keys(key) if choice in catalog.SERVICE_KEYS]
            guess = ' (did you mean %s?)' % ' or '.join(near) if near else ''
            raise XProtectError('service_names has an unknown key %r%s; %s' % (key, guess, _key_list()), kind=errors.INVALID)
        wql.validate_service_name(name)


def _choices():
    keys, sets = ', '.join(catalog.SERVICE_KEYS), ', '.join(catalog.SERVICE_SETS)
    return 'a key (%s), a set (%s) or a Windows service name as installed' % (keys, sets)


def not_a_key_message(name: str, near: list) -> str:
    """Why a name that looks like a key is refused, and what the user may have meant."""
    return 'name %r is not a service key: did you mean %s? Use %s' % (name, ' or '.join(near), _choices())


def skipped_name_warnings(missing: list) -> list:
    """A warning for every name skipped under missing: skip that is neither a catalog key nor installed.

    A key of a service the host lacks is a normal (Custom) shape; any other name may be a typo.
    """
    return [
        'name %r is neither a service key nor a service installed on the host: it was skipped (missing: skip). If it '
        'is not a typo, nothing needed doing; otherwise use %s' % (name, _choices())
        for name in missing
        if name not in catalog.SERVICE_KEYS
    ]


def validate_request(params: dict) -> None:
    """Refuse bad input before anything is sent. Raises XProtectError(kind=errors.INVALID)."""
    names = params.get('name') or []
    if not names:
        raise XProtectError('name must list at least one service key, set or service name', kind=errors.INVALID)
    for item in names:
        if item not in catalog.SERVICE_KEYS and item not in catalog.SERVICE_SETS:
            wql.validate_service_name(item)
            near = catalog.near_keys(item)
            if near:
                # A misspelt key is never taken for a Windows service name (which missing: skip would skip).
                raise XProtectError(not_a_key_message(item, near), kind=errors.INVALID)
    validate_service_names(params.get('service_names'))
    timeout = params.get('timeout')
    if timeout is not None and not TASK_TIMEOUT_MIN <= timeout <= TASK_TIMEOUT_MAX:
        raise XProtectError(
            'timeout must be between %d and %d seconds, got %s' % (TASK_TIMEOUT_MIN, TASK_TIMEOUT_MAX, timeout), kind=errors.INVALID
        )
    if params.get('start_mode') == 'disabled' and params.get('state') in ('started', 'restarted'):
        raise XProtectError(
            'state %s and start_mode disabled contradict each other: a disabled service cannot run' % params['state'], kind=errors.INVALID
        )
    accounts.validate(params.get('account'), params.get('account_password'))


class ServicePlan:
    """What to do, decided from observed status and desired state; talks to nobody.

    account_changes: the targets whose log-on account is set (Win32_Service.Change): those whose account is another
    (by name, _accounts.same), and with update_password 'always' and a password every one (a password cannot be read
    back to compare). It comes first, so that a restart in the same task applies it.
    """

    def __init__(
        self,
        targets: t.List[Target],
        state: t.Optional[str],
        start_mode: t.Optional[str],
        account: t.Any = None,
        password: t.Optional[str] = None,
        update_password: str = 'on_change',
    ) -> None:
        self.state = state
        self.start_mode = start_mode
        self.account = account
        self.password = password
        self.account_changes = [
            t
            for t in targets
            if account is not None
            and not t.forced
            and (
                not accounts.same(account, t.status.start_name, t.status.system_name)
                or (update_password == 'always' and password is not None)
            )
        ]
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
            raise XProtectError(
                'the service is %s; xprotect.go does not pause or continue services: bring it back to '
                'Running or Stopped on the host first' % target.status.windows_state,
                service=target.name,
                kind=errors.SERVICE,
            )
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
        for earlier, later in zip(chain, chain[1:], strict=False):
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
    def changes(self) -> bool:
        return bool(self.start_mode_changes or self.account_changes) or any(step.issue for step in self.steps)

    def check_accounts(self, host: t.Optional[str]) -> t.List[str]:
        """Refuse a change to a user account without its password (Windows would keep the old one, and the service
        would not log on at its next start). Returns warnings (a UPN compared with DOMAIN\\user)."""
        warnings = []
        for target in self.account_changes:
            if (
                accounts.takes_password(self.account)
                and self.password is None
                and not accounts.same(self.account, target.status.start_name, target.status.system_name)
            ):
                raise XProtectError(
                    'account_password is needed to make it log on as %s (it logs on as %s): Windows keeps the '
                    'stored password otherwise, and the service would not log on at its next start'
                    % (self.account, target.status.start_name),
                    host=host,
                    service=target.label,
                    kind=errors.INVALID,
                )
            warning = accounts.upn_warning(self.account, target.status.start_name)
            if warning:
                warnings.append('%s: %s' % (target.label, warning))
        return warnings


def _starts_before(a, b):
    """Must a be running before b starts (and b stopped before a stops)?"""
    if a.name.lower() in b.depends_on:
        return True
    if b.name.lower() in a.depends_on:
        return False
    return a.stage < b.stage


class Step:
    def __init__(self, target: Target, action: str, issue: bool = True) -> None:
        self.target = target
        self.action = action
        self.issue = issue
        self.after: t.Set[Step] = set()
        self.started_at = None
        self.seconds = None
        self.request = None  # the request PlanExecutor sent for it, once sent
        self.entry = None  # this step's entry in PlanExecutor.log, once sent

    @property
    def done(self) -> bool:
        return self.seconds is not None

    @property
    def goal(self) -> str:
        return 'started' if self.action == 'start' else 'stopped'


def match_targets(
    host: t.Optional[str],
    requested: t.Iterable[t.Tuple[str, bool]],
    records: t.Iterable[t.Dict[str, t.Any]],
    matched: t.Dict[str, t.Any],
    key_of: t.Dict[t.Any, t.Any],
    missing_policy: str,
) -> t.Tuple[t.List[Target], t.List[str]]:
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
                raise XProtectError(_missing_message(key), host=host, service=key, kind=errors.NOT_FOUND)
            missing.append(key)
        elif key not in targets:
            targets[key] = Target(key, ServiceStatus(record))
    return list(targets.values()), missing


def _missing_message(key):
    if key in catalog.SERVICES:
        hint = ' A Custom installation may leave it out: use name: custom or missing: skip.' if catalog.SERVICES[key]['optional'] else ''
        return (
            'the %s service is not installed.%s If it is installed under a name the catalog does not know, map it with '
            'service_names (or the inventory variable xprotect_go_service_names).' % (catalog.SERVICES[key]['title'], hint)
        )
    return 'no service with this name is installed'


def add_dependents(services: t.Any, targets: t.List[Target], key_of: t.Dict[t.Any, t.Any], force: bool) -> None:
    """Learn Windows' dependents of every service to be stopped; stop running ones first only when forced."""
    queue = list(targets)
    dependents: t.Dict[str, t.List[ServiceStatus]] = {}
    while queue:
        target = queue.pop(0)
        if target.status.state == 'stopped':
            continue
        if target.name.lower() not in dependents:
            # One query for this target and every other still to be looked at; more only for the dependents it adds.
            asked = [t.name for t in [target] + queue if t.status.state != 'stopped' and t.name.lower() not in dependents]
            dependents.update(services.dependents_of(asked, {t.name.lower(): t.status for t in targets}))
        running = []
        for dependent in dependents[target.name.lower()]:
            known = next((t for t in targets if t.name.lower() == dependent.name.lower()), None)
            if known is not None:
                known.depends_on.add(target.name.lower())
            elif dependent.state != 'stopped':
                running.append(dependent)
        if running and not force:
            raise XProtectError(
                'cannot stop it while services that depend on it are running: %s. Stop them first, or set '
                'force_dependents: true to stop them (and start them again on restart)' % ', '.join(sorted(d.name for d in running)),
                host=services.host,
                service=target.label,
                kind=errors.SERVICE,
            )
        for dependent in running:
            added = Target(key_of.get(dependent.name.lower(), dependent.name), dependent, forced=True)
            added.stage = max(added.stage, target.stage + 1)
            added.depends_on.add(target.name.lower())
            targets.append(added)
            queue.append(added)
