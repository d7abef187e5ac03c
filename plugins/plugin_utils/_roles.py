# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the collection's roles compute, as plain Python. Private to the collection.

The roles stay declarative: they gather results and hand them to the filter plugins in
plugins/filter/, which are thin shells over these functions (names, documentation, and turning
RoleDataError into AnsibleFilterError). Everything here works on the data the modules return
(xprotect.go.service_info and xprotect.go.service results, as registered by a task, including
the failed and unreachable shapes Ansible gives them) and imports nothing from Ansible (only the
collection's health rules, module_utils/_health.py).
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping, Sequence

from ansible_collections.xprotect.go.plugins.module_utils import _health as health

SERVICE_SETS = ('standard', 'custom', 'all')
NO_ANSWER = 'no answer'
# The report document's shape (roles/fleet_report/files/fleet-report.schema.json): major for a change
# that breaks a reader, minor for an addition.
REPORT_SCHEMA_VERSION = '2.0'
# The order of the summary's headline: "4 recording, 1 degraded, 1 not recording, 0 unknown, 0 unreachable".
SUMMARY_ORDER = (health.RECORDING, health.DEGRADED, health.NOT_RECORDING, health.UNKNOWN, health.UNREACHABLE)


class RoleDataError(ValueError):
    """Input a role handed over that does not have the shape the modules return."""


# -- checks ---------------------------------------------------------------------------------------


def _mapping(value, what):
    if not isinstance(value, Mapping):
        raise RoleDataError('%s must be a dictionary, got %s' % (what, type(value).__name__))
    return value


def _sequence(value, what):
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise RoleDataError('%s must be a list, got %s' % (what, type(value).__name__))
    return value


def _integer(value, what):
    if isinstance(value, bool):
        raise RoleDataError('%s must be a whole number, got %r' % (what, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RoleDataError('%s must be a whole number, got %r' % (what, value)) from None


def _seconds(value, what):
    if isinstance(value, bool):
        raise RoleDataError('%s must be a number of seconds, got %r' % (what, value))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RoleDataError('%s must be a number of seconds, got %r' % (what, value)) from None


def task_failed(result: t.Any) -> bool:
    """Ansible's `is failed` test on a registered result."""
    return bool(_mapping(result, 'a task result').get('failed'))


def task_unreachable(result: t.Any) -> bool:
    """Ansible's `is unreachable` test on a registered result."""
    return bool(_mapping(result, 'a task result').get('unreachable'))


# -- the services role: which services a set means on one host ------------------------------------


def _service_entries(services):
    """(key, entry) pairs of service_info's `services`, in the module's (catalog) order."""
    entries = list(_mapping(services, "service_info's services").items())
    for key, entry in entries:
        _mapping(entry, 'service %r' % key)
        for flag in ('installed', 'optional'):
            if flag not in entry:
                raise RoleDataError("service %r has no %r: pass service_info's services, not the service module's" % (key, flag))
    return entries


def service_set(services: t.Any, set_name: str) -> t.List[str]:
    """The keys of the services `set_name` means on this host, in the module's order.

    standard: every catalog service, installed or not (a missing one then fails the host);
    custom: the core (not optional) services plus the optional ones the host has;
    all: whatever the host has installed.
    """
    entries = _service_entries(services)
    if set_name == 'standard':
        return [key for key, _entry in entries]
    if set_name == 'custom':
        return [key for key, entry in entries if entry['installed'] or not entry['optional']]
    if set_name == 'all':
        return [key for key, entry in entries if entry['installed']]
    raise RoleDataError('the service set must be one of %s, got %r' % (', '.join(SERVICE_SETS), set_name))


def missing_services(services: t.Any, set_name: str) -> t.List[str]:
    """The keys of the set `set_name` that the host does not have installed."""
    return [key for key in service_set(services, set_name) if not services[key]['installed']]


# -- the fleet_report role ------------------------------------------------------------------------


def _reasons(value, what):
    reasons = []
    for index, item in enumerate(_sequence(value, what)):
        item = _mapping(item, '%s[%d]' % (what, index))
        if item.get('verdict') not in health.VERDICTS:
            raise RoleDataError('%s[%d] has verdict %r, not one of %s' % (what, index, item.get('verdict'), ', '.join(health.VERDICTS)))
        reasons.append(
            {'rule': item.get('rule'), 'service': item.get('service'), 'verdict': item['verdict'], 'text': str(item.get('text', ''))}
        )
    return reasons


def _health_of(info, services):
    """{'verdict', 'reasons'} of a registered service_info result: its own when it has them.

    A result without them (Ansible refused the task before the module ran, or a module older than
    the verdicts) is judged here: unreadable for a failed or unreachable result, else by the rules.
    """
    if 'verdict' in info:
        verdict = info['verdict']
        if verdict not in health.VERDICTS:
            raise RoleDataError("service_info's verdict is %r, not one of %s" % (verdict, ', '.join(health.VERDICTS)))
        return {'verdict': verdict, 'reasons': _reasons(info.get('reasons', []), "service_info's reasons")}
    if task_unreachable(info) or task_failed(info):
        kind = 'unreachable' if task_unreachable(info) else 'error'
        return health.unreadable(kind, str(info.get('msg', NO_ANSWER)))
    return health.host_verdict(services)


def verdict_label(verdict: str) -> str:
    """not_recording -> 'not recording': how people read a verdict."""
    return verdict.replace('_', ' ')


def report_entry(info: t.Any, host: str, address: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    """One host's entry of the fleet report, from its registered service_info result.

    verdict and reasons are service_info's (health.md); error is why the host could not be read
    (failed or unreachable); line is the host's line of the text summary.
    """
    info = _mapping(info, "the host's service_info result")
    services = _mapping(info.get('services', {}), "service_info's services")
    installed_services = [entry for _key, entry in _service_entries(services) if entry['installed']]
    installed = len(installed_services)
    running = len([entry for entry in installed_services if entry.get('state') == 'started'])
    warnings = [str(warning) for warning in _sequence(info.get('warnings', []), "service_info's warnings")]
    install_type = info.get('install_type', 'unknown')
    judged = _health_of(info, services)
    unread = task_unreachable(info) or task_failed(info)
    problem = str(info.get('msg', NO_ANSWER)) if unread else ''
    if problem:
        detail = problem
    else:
        texts = [item['text'] for item in judged['reasons']]
        detail = '%s installation, %d of %d services running%s' % (
            install_type,
            running,
            installed,
            ('; ' + ' '.join(texts)) if texts else '',
        )
    return {
        'name': host,
        'address': host if address is None else address,
        'verdict': judged['verdict'],
        'reasons': judged['reasons'],
        'error': problem,
        'install_type': install_type,
        'installed': installed,
        'running': running,
        'warnings': warnings,
        'services': services,
        'other_services': info.get('other_services', []),
        'line': '%-16s %-13s %s' % (host, judged['verdict'], detail),
    }


def fleet_report_entries(read: t.Any) -> t.List[t.Dict[str, t.Any]]:
    """Every host's entry of the fleet report, from xprotect.go.fleet_service_info's registered result, in its order.

    Each entry is report_entry's for the host's result, at the host's address (its ansible_host).
    """
    read = _mapping(read, "fleet_service_info's result")
    if task_failed(read) or task_unreachable(read):
        raise RoleDataError('fleet_service_info failed, there is nothing to report: %s' % read.get('msg', NO_ANSWER))
    hosts = _mapping(read.get('hosts', {}), "fleet_service_info's hosts")
    addresses = _mapping(read.get('addresses', {}), "fleet_service_info's addresses")
    return [report_entry(info, name, addresses.get(name)) for name, info in hosts.items()]


def fleet_report(hosts: t.Any, title: str, generated: str) -> t.Dict[str, t.Any]:
    """The report document (schema REPORT_SCHEMA_VERSION, roles/fleet_report/files/fleet-report.schema.json).

    {schema_version, title, generated, verdicts, summary: {hosts, <verdict>: count...}, attention, hosts}:
    attention is the names of the hosts that are not recording, worst first (play order within a verdict).
    """
    hosts = list(_sequence(hosts, 'the report entries'))
    summary = {'hosts': len(hosts)}
    for verdict in health.VERDICTS:
        summary[verdict] = 0
    for index, entry in enumerate(hosts):
        verdict = _mapping(entry, 'report entry %d' % index).get('verdict')
        if verdict not in health.VERDICTS:
            raise RoleDataError(
                'report entry %d (%s) has verdict %r, not one of %s: build entries with report_entry'
                % (index, entry.get('name', '?'), verdict, ', '.join(health.VERDICTS))
            )
        summary[verdict] += 1
    attention = sorted(
        (entry for entry in hosts if entry['verdict'] != health.RECORDING), key=lambda entry: health.VERDICTS.index(entry['verdict'])
    )
    return {
        'schema_version': REPORT_SCHEMA_VERSION,
        'title': title,
        'generated': generated,
        'verdicts': list(health.VERDICTS),
        'summary': summary,
        'attention': [entry.get('name') for entry in attention],
        'hosts': hosts,
    }


def _checked_report(report):
    report = _mapping(report, 'the report')
    for key in ('title', 'summary', 'hosts'):
        if key not in report:
            raise RoleDataError('the report has no %r: build it with fleet_report' % key)
    return report


def fleet_summary(report: t.Any, html_path: str, json_path: str) -> t.List[str]:
    """The plain-text summary: a headline with the counts by verdict, a line per host, where the files are."""
    report = _checked_report(report)
    counts = _mapping(report['summary'], "the report's summary")
    headline = '%s: %d hosts, %s' % (
        report['title'],
        _integer(counts.get('hosts'), 'summary.hosts'),
        ', '.join('%d %s' % (_integer(counts.get(verdict), 'summary.%s' % verdict), verdict_label(verdict)) for verdict in SUMMARY_ORDER),
    )
    lines = [_mapping(entry, 'report entry').get('line', '') for entry in _sequence(report['hosts'], "the report's hosts")]
    return [headline] + lines + ['HTML report: %s' % html_path, 'JSON report: %s' % json_path]


def fleet_failures(report: t.Any, verdicts: t.Any) -> t.List[str]:
    """The hosts whose verdict is one of `verdicts` (fleet_report_fail_on), in the report's order: ["<host> (<verdict>)"]."""
    report = _checked_report(report)
    verdicts = [str(verdict) for verdict in _sequence(verdicts, 'the verdicts to fail on')]
    for verdict in verdicts:
        if verdict not in health.VERDICTS:
            raise RoleDataError('cannot fail on %r: the verdicts are %s' % (verdict, ', '.join(health.VERDICTS)))
    hosts = [_mapping(entry, 'report entry') for entry in _sequence(report['hosts'], "the report's hosts")]
    return ['%s (%s)' % (entry.get('name'), verdict_label(entry.get('verdict', ''))) for entry in hosts if entry.get('verdict') in verdicts]


# -- the rolling_restart role ---------------------------------------------------------------------


def failure_reason(result: t.Any, task_name: str) -> str:
    """Why a task failed, in one line: "<task>: <message>"; a loop's failed items' messages joined."""
    result = _mapping(result, 'the failed result')
    items = _sequence(result.get('results', []), "the failed result's results")
    messages = [str(item.get('msg', '')) for item in items if isinstance(item, Mapping) and item.get('failed')]
    return '%s: %s' % (task_name, ' '.join(messages or [str(result.get('msg', 'failed'))]))


def _timings(services):
    """ "recording_server stop 1.0 s, start 1.5 s; image_server ..." from the service module's services."""
    parts = []
    for key, entry in services:
        entry = _mapping(entry, 'service %r of the restart result' % key)
        seconds = _mapping(entry.get('seconds', {}), 'the seconds of service %r' % key)
        actions = [
            '%s%s' % (action, ' %.1f s' % _seconds(seconds[action], 'seconds.%s of %r' % (action, key)) if action in seconds else '')
            for action in _sequence(entry.get('actions', []), 'the actions of service %r' % key)
        ]
        parts.append('%s %s' % (key, ', '.join(actions)))
    return '; '.join(parts)


def left_down(read: t.Any) -> t.List[str]:
    """ "recording_server (stopped), image_server (unknown)": the services of a read of the host that are not running.

    read: a registered service_info or service result; its services that are installed (or whose
    installation the result does not say, as the service module's) and not started are left down.
    """
    services = _mapping(_mapping(read, 'the read after the restart').get('services', {}), "the read's services")
    down = []
    for key, entry in services.items():
        entry = _mapping(entry, 'service %r of the read after the restart' % key)
        if entry.get('installed') is not False and entry.get('state') != 'started':
            down.append('%s (%s)' % (key, entry.get('state', 'unknown')))
    return down


def rollout_outcome(
    before: t.Any, host: str, restart: t.Any = None, error: str = '', check_mode: bool = False, after: t.Any = None
) -> t.Dict[str, t.Any]:
    """What the rollout did to one host: {host, status, line, left_down}.

    before: the service_info result read before the restart (unreachable or failed there means the
    host was not touched); restart: the services role's services_result (the service module's
    result); error: why the restart failed, empty when it did not; after: the latest read of the
    host's services once the restart began (services_settled, services_observed or services_result),
    by default `restart`. A failed host's line says which services the restart left down.
    """
    if task_unreachable(before):
        status = 'unreachable'
    elif task_failed(before) or error:
        status = 'failed'
    else:
        status = 'restarted'
    restart = _mapping(restart if restart is not None else {}, 'the restart result')
    if status != 'restarted':
        touched = status == 'failed' and not task_failed(before)
        down = left_down(after if after is not None else restart) if touched else []
        reason = before.get('msg', '') if task_unreachable(before) or task_failed(before) else error
        line = '%s: %s: %s' % (host, status.upper(), reason)
        if down:
            line += '; left down on the host: %s' % ', '.join(down)
        return {'host': host, 'status': status, 'line': line, 'left_down': down}
    services = list(_mapping(restart.get('services', {}), "the restart result's services").items())
    took = '' if check_mode else ' in %.1f s' % _seconds(restart.get('elapsed', 0), "the restart result's elapsed")
    line = '%s: %s%d services%s (%s)' % (host, 'would restart ' if check_mode else 'restarted ', len(services), took, _timings(services))
    return {'host': host, 'status': status, 'line': line, 'left_down': []}


def rollout_stops(batch_failed: int, batch_size: int, max_fail_percentage: float, pending: t.Any) -> bool:
    """Whether Ansible ends the rollout after this batch (max_fail_percentage), as it decides it.

    Ansible counts only this batch's failures (it forgets earlier batches'): it stops when they are
    more than max_fail_percentage of the batch, or the whole batch failed. Nothing is left to stop
    when no host is pending.
    """
    batch_failed = _integer(batch_failed, 'the failed hosts of the batch')
    batch_size = _integer(batch_size, 'the batch size')
    max_fail_percentage = _integer(max_fail_percentage, 'max_fail_percentage')
    return bool(pending) and batch_failed > 0 and (batch_failed * 100 > max_fail_percentage * batch_size or batch_failed == batch_size)


def rollout_summary(
    outcomes: t.List[t.Dict[str, t.Any]], hosts: t.Any, batch: t.Any, max_fail_percentage: float = 0, check_mode: bool = False
) -> t.List[str]:
    """The rollout so far: a headline, each done host's line, then the hosts not restarted (yet)."""
    outcomes = [_mapping(outcome, 'outcome %d' % index) for index, outcome in enumerate(_sequence(outcomes, 'the outcomes'))]
    for index, outcome in enumerate(outcomes):
        if not {'host', 'status', 'line'} <= set(outcome):
            raise RoleDataError('outcome %d needs host, status and line: build it with rollout_outcome' % index)
    hosts = _sequence(hosts, 'the hosts')
    batch = _sequence(batch, 'the batch')
    done = {outcome['host'] for outcome in outcomes}
    pending = [host for host in hosts if host not in done]
    batch_failed = len([outcome for outcome in outcomes if outcome['host'] in batch and outcome['status'] != 'restarted'])
    stops = rollout_stops(batch_failed, len(batch), max_fail_percentage, pending)

    def count(status):
        return len([outcome for outcome in outcomes if outcome['status'] == status])

    headline = 'Rolling restart%s %s: %d %s, %d failed, %d unreachable, %d not restarted, of %d hosts.' % (
        ' (check mode, nothing was restarted)' if check_mode else '',
        'stopped' if stops else 'done' if not pending else 'so far',
        count('restarted'),
        'would be restarted' if check_mode else 'restarted',
        count('failed'),
        count('unreachable'),
        len(pending),
        len(hosts),
    )
    waiting = ': not restarted' + (' (the rollout stopped before it)' if stops else ' yet')
    return [headline] + [outcome['line'] for outcome in outcomes] + [host + waiting for host in pending]
