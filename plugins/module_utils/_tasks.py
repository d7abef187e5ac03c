# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules' whole job, callable from a module or from an action plugin alike.

This is private to the collection: its interface may change without notice.
describe_host() is service_info's job, converge() the service module's: each reads the host,
plans (_plan), executes (_execute) and builds the result (_result).
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _eventlog as eventlog
from ansible_collections.xprotect.go.plugins.module_utils import _health as health
from ansible_collections.xprotect.go.plugins.module_utils._connection import resolve_connection
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._execute import PlanExecutor
from ansible_collections.xprotect.go.plugins.module_utils._plan import (
    ServicePlan,
    add_dependents,
    expand_names,
    match_targets,
    skipped_name_warnings,
    validate_request,
    validate_service_names,
)
from ansible_collections.xprotect.go.plugins.module_utils._result import service_result
from ansible_collections.xprotect.go.plugins.module_utils._specs import TASK_TIMEOUT
from ansible_collections.xprotect.go.plugins.module_utils._windows import HostServices, ServiceStatus
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WINRM_IMPORT_ERROR, WsmanClient  # noqa: F401 pylint: disable=unused-import


def _host_services(params, host_settings, environ):
    settings = resolve_connection(params, host_settings, environ)
    return HostServices(WsmanClient(settings), settings.host)


def run_service_info(params: t.Dict[str, t.Any], host_settings: t.Any = None, environ: t.Optional[t.Mapping[str, str]] = None) -> dict:
    try:
        services = _host_services(params, host_settings, environ)
        return describe_host(
            services,
            params.get('service_names'),
            failures=params.get('failures') or 'auto',
            failure_lookback=params.get('failure_lookback') or eventlog.INFO_LOOKBACK_MINUTES,
        )
    except XProtectError as error:
        # A host that could not be read still gets a verdict: unreachable or unknown (_health.UNREADABLE_RULES).
        error.result = dict(error.result, **health.unreadable(error.kind, str(error)))
        raise


def run_service(
    params: t.Dict[str, t.Any],
    host_settings: t.Any = None,
    environ: t.Optional[t.Mapping[str, str]] = None,
    check_mode: bool = False,
    diff: bool = False,
) -> dict:
    services = _host_services(params, host_settings, environ)
    return converge(services, params, check_mode=check_mode, diff=diff)


def describe_host(
    services: HostServices,
    overrides: t.Optional[dict] = None,
    failures: str = 'never',
    failure_lookback: int = eventlog.INFO_LOOKBACK_MINUTES,
) -> dict:
    """Everything service_info reports, from one discovery round trip (two when the System log is read for the services'
    last_failure: failures 'always', or 'auto' and a service is down that should run, _eventlog.reason_to_read)."""
    validate_service_names(overrides)
    eventlog.validate_lookback(failure_lookback)
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
    others = [
        ServiceStatus(record).facts()
        for record in records
        if record['Name'].lower() not in claimed and catalog.is_milestone_service(record)
    ]
    event_log, log_warnings = eventlog.add_last_failures(services, report, failures, failure_lookback)
    verdict = health.host_verdict(report)
    return {
        'install_type': catalog.install_type(matched),
        'services': report,
        'missing': [key for key in catalog.SERVICE_KEYS if key not in matched],
        'other_services': sorted(others, key=lambda facts: facts['name'].lower()),
        'warnings': health.warnings(verdict) + log_warnings,
        'event_log': event_log,
        'verdict': verdict['verdict'],
        'reasons': verdict['reasons'],
    }


def converge(
    services: HostServices,
    params: t.Dict[str, t.Any],
    check_mode: bool = False,
    diff: bool = False,
    clock: t.Callable[[], float] = time.monotonic,
    sleep: t.Callable[[float], None] = time.sleep,
) -> dict:
    """Bring the requested services to the requested state; the service module's whole job."""
    validate_request(params)
    overrides = params.get('service_names') or {}
    requested = expand_names(params['name'])
    extra_names = [item for item, dummy in requested if item not in catalog.SERVICE_KEYS]
    # A task that may stop services needs their dependents before its first stop: learnt during discovery.
    records = services.discover(overrides, extra_names=extra_names, dependencies=params.get('state') in ('stopped', 'restarted'))
    matched = catalog.match_services(records, overrides)
    key_of = {record['Name'].lower(): key for key, record in matched.items()}
    targets, missing = match_targets(services.host, requested, records, matched, key_of, params.get('missing', 'auto'))

    state, start_mode = params.get('state'), params.get('start_mode')
    _prepare(services, targets, params, key_of)
    before = {t.key: _before(t, params.get('account')) for t in targets}
    plan = ServicePlan(
        targets,
        state,
        start_mode,
        account=params.get('account'),
        password=params.get('account_password'),
        update_password=params.get('update_password') or 'on_change',
    )
    executor = PlanExecutor(services, params.get('timeout') or TASK_TIMEOUT, clock=clock, sleep=sleep)
    started = clock()
    # 'missing', not 'skipped': Ansible takes a non-empty 'skipped' in a result for a skipped task.
    result = {'missing': missing}
    warnings = skipped_name_warnings(missing) + plan.check_accounts(services.host)
    if warnings:
        result['warnings'] = warnings
    try:
        if not check_mode:
            executor.apply(plan)
    except XProtectError as error:
        if error.host is None:
            error.host = services.host
        if params.get('account_password'):
            # The account's password never shows, whatever Windows or a library put in the text.
            error.message = errors.scrub_all(error.message, [params['account_password']])
        error.result = service_result(result, targets, plan, executor, before, diff, check_mode, clock() - started)
        raise
    return service_result(result, targets, plan, executor, before, diff, check_mode, clock() - started)


def _prepare(services, targets, params, key_of):
    """What must be known or refused before planning: a disabled service asked to start, whether Automatic is delayed
    (old Windows), and the dependents of services to stop."""
    state, start_mode = params.get('state'), params.get('start_mode')
    if state in ('started', 'restarted') and start_mode is None:
        for target in targets:
            if target.status.start_mode == 'disabled':
                raise XProtectError(
                    'the service is disabled and cannot be started: set start_mode (auto, delayed or '
                    'manual) in the task, or enable it on the host',
                    host=services.host,
                    service=target.label,
                    kind=errors.SERVICE,
                )
    if start_mode in ('auto', 'delayed'):
        for target in targets:
            if target.status.start_mode == 'auto' and target.status.delayed is None:
                if services.is_delayed(target.name):
                    target.status.start_mode = 'delayed'
    if state in ('stopped', 'restarted'):
        add_dependents(services, targets, key_of, force=params.get('force_dependents', False))


def _before(target, account):
    """The diff's before of one service: state and start mode, and the log-on account when the task sets one."""
    before = {'state': target.status.state, 'start_mode': target.status.start_mode}
    if account is not None:
        before['account'] = target.status.start_name
    return before
