# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Windows side: WMI queries and method calls for one host's services, and what they return.

This is private to the collection: its interface may change without notice.
HostServices is the only code that talks to Windows; nothing here decides what to do.
"""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.xprotect.go.plugins.module_utils import _accounts as accounts
from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _wql as wql
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

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
WINDOWS_START_MODES = {'auto': 'auto', 'automatic': 'auto', 'manual': 'manual', 'disabled': 'disabled', 'boot': 'boot', 'system': 'system'}
# What ChangeStartMode wants for each of our start modes ('delayed' is Automatic plus a registry value).
WMI_START_MODES = {'auto': 'Automatic', 'delayed': 'Automatic', 'manual': 'Manual', 'disabled': 'Disabled'}

# Win32_Service method return values (Win32_Service.StartService documentation).
RETURN_VALUES = {
    0: 'success',
    1: 'not supported',
    2: 'access denied',
    3: 'dependent services are running',
    4: 'invalid service control',
    5: 'the service cannot accept the control now',
    6: 'the service is not active',
    7: 'the service did not respond in time',
    8: 'unknown failure',
    9: 'executable not found',
    10: 'the service is already running',
    11: 'the service database is locked',
    12: 'a dependency was deleted',
    13: 'a dependency failed to start',
    14: 'the service is disabled',
    15: 'the service could not log on',
    16: 'the service is marked for deletion',
    17: 'the service has no thread',
    18: 'circular dependency',
    19: 'duplicate name',
    20: 'invalid name',
    21: 'invalid parameter',
    22: 'invalid service account',
    23: 'the service exists',
    24: 'the service is already paused',
}
ACCESS_DENIED = 2
ALREADY_RUNNING = 10
LOGON_FAILED = 15
INVALID_PARAMETER = 21
INVALID_SERVICE_ACCOUNT = 22
# Win32_Service.Change's parameters, in the order of its declaration (Win32_Service.Change documentation). The
# account is changed with StartName and StartPassword; every other parameter is null: left as it is.
CHANGE_PARAMETERS = (
    'DisplayName',
    'PathName',
    'ServiceType',
    'ErrorControl',
    'StartMode',
    'DesktopInteract',
    'StartName',
    'StartPassword',
    'LoadOrderGroup',
    'LoadOrderGroupDependencies',
    'ServiceDependencies',
)

HKEY_LOCAL_MACHINE = 2147483650
SERVICES_KEY = 'SYSTEM\\CurrentControlSet\\Services\\'

# Discovery looks for anything Milestone-like besides the catalog's exact names, so unknown
# Milestone services (Management Server, Log Server, ...) can be reported.
SELECT_SERVICES = 'SELECT * FROM Win32_Service WHERE '
# Dependencies between services: one instance per pair, its Antecedent the service depended on (Win32_DependentService).
SELECT_DEPENDENCIES = 'SELECT * FROM Win32_DependentService WHERE '

# The most sessions of one host used at the same time for reads (HostServices.poll with each); WinRM takes 1500
# operations at once per user by default (MaxConcurrentOperationsPerUser).
MAX_SESSIONS = 8

_DISCOVERY_LIKE = (('Name', 'Milestone'), ('DisplayName', 'Milestone'), ('PathName', 'Milestone'), ('PathName', 'VideoOS.'))


class ServiceStatus:
    """One Win32_Service instance, in the collection's vocabulary."""

    def __init__(self, record: t.Dict[str, t.Any]) -> None:
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
        self.system_name = record.get('SystemName')
        self.desktop_interact = str(record.get('DesktopInteract')).lower() == 'true'
        # While pending: the service's own estimate (WaitHint, ms) of how long until its next report, a new
        # CheckPoint or another state; both are 0 otherwise (SERVICE_STATUS). PlanExecutor times its reads by them.
        self.wait_hint = (_to_int(record.get('WaitHint')) or 0) / 1000.0
        self.check_point = _to_int(record.get('CheckPoint')) or 0

    def facts(self) -> t.Dict[str, t.Any]:
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


class ControlRefused(XProtectError):
    """Windows answered a Win32_Service method with a ReturnValue other than success (``return_value``)."""

    def __init__(self, message: str, return_value: t.Optional[int], **kwargs: t.Any) -> None:
        super().__init__(message, **kwargs)
        self.return_value = return_value


def _get_status(services, name):
    """One service's status by a Get over the given session: a ServiceStatus, None when Windows has no such service,
    or the XProtectError the Get raised (for poll to raise once every Get has ended)."""
    try:
        return ServiceStatus(services.client.get('Win32_Service', {'Name': name}))
    except XProtectError as error:
        return None if error.kind == errors.NOT_FOUND else error


def _service_name(reference):
    """The Name of the Win32_Service a reference property points at, or None (another class, e.g. a driver)."""
    if isinstance(reference, dict):
        return reference.get('Name') if reference.get('__class__', 'Win32_Service') == 'Win32_Service' else None
    return None


def _to_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class HostServices:
    """The Windows side: WMI queries and method calls for services on one host."""

    def __init__(self, client: t.Any, host: t.Optional[str]) -> None:
        self.client = client
        self.host = host
        self._copies: t.List[HostServices] = []
        self._learnt: t.Dict[str, t.List[str]] = {}  # lower-case name: its dependents' names, read during discovery

    def copies(self, count: int) -> t.List['HostServices']:
        """count more HostServices for this host, each over a WinRM session of its own, for method calls sent at the
        same time; kept for the next calls (a session authenticates once). [] when the client cannot be copied."""
        while len(self._copies) < count:
            client = self.client.copy() if hasattr(self.client, 'copy') else None
            if client is None:
                return []
            self._copies.append(HostServices(client, self.host))
        return self._copies[:count]

    @property
    def request_timeout(self) -> float | None:
        """The longest one request may wait for its answer (the client's connection_timeout), None when not known."""
        return getattr(getattr(self.client, 'settings', None), 'connection_timeout', None)

    def discover(self, overrides: dict | None = None, extra_names: t.Iterable[str] = (), dependencies: bool = False) -> list:
        """Every Milestone-like service plus the named ones: one round trip, more only when the names would make the
        query longer than Windows accepts (wql.MAX_WQL_CHARS). Returns Win32_Service records, each service once.

        dependencies: also learn, at the same time over a session of its own, which services depend on the named ones,
        for dependents_of (a task that stops services saves a round trip before its first stop)."""
        names = set(extra_names) | set((overrides or {}).values())
        for key in catalog.SERVICE_KEYS:
            names.update(name for name in catalog.known_names(key) if not name.endswith('*'))
        ahead = self._learn_dependencies_meanwhile(sorted(names)) if dependencies else None
        try:
            return self._discover(names)
        finally:
            if ahead is not None:
                ahead.join()

    def _discover(self, names):
        clauses = [wql.like_contains(field, fragment) for field, fragment in _DISCOVERY_LIKE]
        clauses += [
            wql.like_contains('PathName', executable) for key in catalog.SERVICE_KEYS for executable in catalog.known_executables(key)
        ]
        # Each query of a split list repeats the LIKE conditions: a service they match comes back from each, kept once.
        records: t.Dict[str, t.Any] = {}
        for query in wql.build_or_chunks('Name', sorted(names), SELECT_SERVICES + ' OR '.join(clauses) + ' OR '):
            for record in self.client.enumerate(query):
                records.setdefault((record.get('Name') or '').lower(), record)
        return list(records.values())

    def poll(self, names: t.Iterable[str], each: bool = False) -> dict:
        """The current status of the named services, {lower-case name: ServiceStatus}: one round trip, more only when
        the names would make the query longer than Windows accepts.

        each: a Get of each service instead, all at once, each over a session of its own (copies): a round trip per
        service, in the time of one Get. Windows' WMI walks every service of the machine for any Win32_Service query,
        and reads one for a Get (docs/performance.md, the cost model), so this answers sooner: for the read a plan
        waits on. One query as above for more than MAX_SESSIONS services, or when the client cannot be copied.
        """
        names = sorted(names)
        sessions = [self] + self.copies(len(names) - 1) if each and 1 <= len(names) <= MAX_SESSIONS else []
        if not sessions or len(sessions) != len(names):
            statuses = {}
            for query in wql.build_or_chunks('Name', names, SELECT_SERVICES) if names else []:
                statuses.update({record['Name'].lower(): ServiceStatus(record) for record in self.client.enumerate(query)})
            return statuses
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix='xprotect-get') as pool:
            outcomes = list(pool.map(_get_status, sessions, names))
        failures = [outcome for outcome in outcomes if isinstance(outcome, XProtectError)]
        if failures:
            raise failures[0]  # once every answer is in: no Get is left running behind the error
        return {status.name.lower(): status for status in outcomes if isinstance(status, ServiceStatus)}

    def dependents_of(self, names: t.Iterable[str], known: t.Mapping[str, ServiceStatus]) -> t.Dict[str, t.List[ServiceStatus]]:
        """The services Windows registered as depending on each named one, {lower-case name: [ServiceStatus]}.

        One Win32_DependentService query for all of them (more only when the names would make it longer than Windows
        accepts), then one status read of the dependents not in known ({lower-case name: ServiceStatus}), if any.
        """
        names = list(names)
        asked = [name for name in names if name.lower() not in self._learnt]
        pairs = [(name.lower(), dependent) for name in names if name.lower() in self._learnt for dependent in self._learnt[name.lower()]]
        pairs += self.dependency_pairs(asked) if asked else []
        unknown = {dependent for _antecedent, dependent in pairs if dependent.lower() not in known}
        statuses = dict(known, **self.poll(unknown)) if unknown else dict(known)
        found: t.Dict[str, t.List[ServiceStatus]] = {name.lower(): [] for name in names}
        for antecedent, dependent in sorted(pairs, key=lambda pair: pair[1].lower()):
            status = statuses.get(dependent.lower())
            if antecedent in found and status is not None:
                found[antecedent].append(status)
        return found

    def dependency_pairs(self, names: t.Iterable[str]) -> t.List[t.Tuple[str, str]]:
        """[(antecedent's lower-case name, dependent's name)] Windows registered for the named services."""
        pairs = []
        for query in wql.build_or_chunks('Antecedent', sorted(names), SELECT_DEPENDENCIES):
            for record in self.client.enumerate(query):
                antecedent, dependent = _service_name(record.get('Antecedent')), _service_name(record.get('Dependent'))
                if antecedent and dependent:
                    pairs.append((antecedent.lower(), dependent))
        return pairs

    def _learn_dependencies_meanwhile(self, names):
        """A started thread that reads the dependencies of names over a copy of this session into self._learnt; None
        when the client cannot be copied. If that read fails, nothing is learnt: dependents_of then asks itself."""
        copies = self.copies(1)
        if not copies:
            return None

        def learn():
            try:
                pairs = copies[0].dependency_pairs(names)
            except XProtectError:
                return
            learnt: t.Dict[str, t.List[str]] = {name.lower(): [] for name in names}
            for antecedent, dependent in pairs:
                learnt.setdefault(antecedent, []).append(dependent)
            self._learnt.update(learnt)

        thread = threading.Thread(target=learn, name='xprotect-dependencies', daemon=True)
        thread.start()
        return thread

    def start(self, name: str) -> int:
        return self._control(name, 'StartService')

    def stop(self, name: str) -> int:
        return self._control(name, 'StopService')

    def change_start_mode(self, name: str, start_mode: str) -> int:
        """Win32_Service.ChangeStartMode only; 'delayed' also needs set_delayed(name, True) afterwards."""
        return self._control(name, 'ChangeStartMode', {'StartMode': WMI_START_MODES[start_mode]})

    def is_delayed(self, name: str) -> bool:
        """Read DelayedAutostart from the registry, for Windows versions whose WMI lacks DelayedAutoStart."""
        output = self.client.invoke('StdRegProv', 'GetDWORDValue', params=self._registry_value(name), namespace='root/default')
        return _to_int(output.get('ReturnValue')) == 0 and _to_int(output.get('uValue')) == 1

    def set_delayed(self, name: str, delayed: bool) -> None:
        """Write the service's DelayedAutostart registry value (StdRegProv.SetDWORDValue)."""
        params = dict(self._registry_value(name), uValue=1 if delayed else 0)
        output = self.client.invoke('StdRegProv', 'SetDWORDValue', params=params, namespace='root/default')
        code = _to_int(output.get('ReturnValue'))
        if code == 5:
            raise XProtectError(
                'access denied writing the DelayedAutostart registry value: the account needs write '
                'access to HKLM\\%s%s (or use start_mode auto)' % (SERVICES_KEY, name),
                host=self.host,
                service=name,
                kind=errors.ACCESS_DENIED,
            )
        if code != 0:
            raise XProtectError(
                'could not write the DelayedAutostart registry value (StdRegProv error %s)' % code,
                host=self.host,
                service=name,
                kind=errors.SERVICE,
            )

    @staticmethod
    def _registry_value(name):
        return {'hDefKey': HKEY_LOCAL_MACHINE, 'sSubKeyName': SERVICES_KEY + name, 'sValueName': 'DelayedAutostart'}

    def failure_events(self, query: str, limit: int) -> list:
        """The Win32_NTLogEvent records a query (from _eventlog.failure_query) selects: at most `limit` of them."""
        return self.client.enumerate(query, limit=limit)

    def change_account(self, name: str, account: str, password: str | None) -> int:
        """Win32_Service.Change with StartName and StartPassword (_accounts.change_parameters); every other parameter null.

        The password goes to Windows only inside this call: it is scrubbed from whatever error comes back.
        """
        values = accounts.change_parameters(account, password)
        params = {parameter: values.get(parameter) for parameter in CHANGE_PARAMETERS}
        secrets = [password] if password else []
        try:
            output = self.client.invoke('Win32_Service', 'Change', selectors={'Name': name}, params=params, secrets=secrets)
        except XProtectError as error:
            error.message = errors.scrub_all(error.message, secrets)
            raise
        code = _to_int(output.get('ReturnValue'))
        if code == 0:
            return code
        raise ControlRefused(
            errors.scrub_all(_change_refusal(code, values['StartName']), secrets),
            code,
            host=self.host,
            service=name,
            kind=errors.ACCESS_DENIED if code == ACCESS_DENIED else errors.SERVICE,
        )

    def _control(self, name, method, params=None):
        output = self.client.invoke('Win32_Service', method, selectors={'Name': name}, params=params)
        code = _to_int(output.get('ReturnValue'))
        if code == 0 or (code == ALREADY_RUNNING and method == 'StartService'):
            return code
        meaning = RETURN_VALUES.get(code, 'unknown return value')
        if code == ACCESS_DENIED:
            raise ControlRefused(
                'access denied to %s (ReturnValue 2): the account needs the right to start and stop this '
                'service (SERVICE_START, SERVICE_STOP and SERVICE_CHANGE_CONFIG in its security descriptor, '
                "see the README's least-privilege set-up)" % method,
                code,
                host=self.host,
                service=name,
                kind=errors.ACCESS_DENIED,
            )
        hint = ''
        if code == LOGON_FAILED and method == 'StartService':
            hint = (
                ': Windows could not log the service on with its account and stored password (a wrong account_password, '
                'or an account without the right to log on as a service)'
            )
        raise ControlRefused(
            '%s failed: %s (ReturnValue %s)%s' % (method, meaning, code, hint), code, host=self.host, service=name, kind=errors.SERVICE
        )


def _change_refusal(code, start_name):
    """Why Windows refused to change the log-on account, and what to do."""
    if code == ACCESS_DENIED:
        return (
            'access denied to Change (ReturnValue 2): changing the log-on account needs SERVICE_CHANGE_CONFIG on the '
            "service (see the README's least-privilege set-up)"
        )
    if code == INVALID_SERVICE_ACCOUNT:
        return (
            'Windows refused the account %s (ReturnValue 22, invalid service account): it does not exist or cannot run '
            'services; check the name (%s)' % (start_name, accounts.FORMS)
        )
    if code == LOGON_FAILED:
        return (
            'Windows could not log on as %s with the given account_password (ReturnValue 15, service logon failed): '
            'check the password' % start_name
        )
    if code == INVALID_PARAMETER:
        return (
            'Windows refused the account %s (ReturnValue 21, invalid parameter): a service allowed to interact with the '
            'desktop can only log on as LocalSystem, and managed or virtual accounts take no password' % start_name
        )
    return 'Change failed: %s (ReturnValue %s)' % (RETURN_VALUES.get(code, 'unknown return value'), code)
