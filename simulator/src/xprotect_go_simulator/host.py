# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One simulated Windows machine: its Service Control Manager, and the WMI view of it through WinRM.

The parts live in their own modules: services.py (the SCM and its state machine), accounts.py
(log-on accounts, Win32_Service.Change), eventlog.py (the System log), query.py (Win32_Service and
Win32_NTLogEvent instances, WQL), enumeration.py (Enumerate/Pull/Release), registry.py (StdRegProv)
and wsman_faults.py (the faults). This module dispatches WS-Management requests to them under one lock.
"""

from __future__ import annotations

import threading
import typing as t
import time

from . import enumeration, query, soap, wsman_faults
from .accounts import Accounts
from .enumeration import Enumerations
from .profiles import PROFILES
from .query import CIMV2_ALL_URI
from .registry import HKEY_LOCAL_MACHINE, STDREGPROV_URI, StdRegProv
from .services import SERVICE_CLASS, SERVICE_URI, SNAPSHOT_KEYS, ServiceControlManager, account_name

# Re-exported: the resource URIs and snapshot keys tests and clients use with a SimulatedHost.
__all__ = ['CIMV2_ALL_URI', 'HKEY_LOCAL_MACHINE', 'SERVICE_URI', 'SNAPSHOT_KEYS', 'STDREGPROV_URI', 'SimulatedHost', 'account_name']

SERVICE_METHODS = ('StartService', 'StopService', 'ChangeStartMode', 'Change')


def _is_known_resource(uri):
    return uri in (SERVICE_URI.lower(), CIMV2_ALL_URI.lower(), STDREGPROV_URI.lower())


def _unknown_resource(uri):
    return wsman_faults.action_not_supported() if _is_known_resource(uri) else wsman_faults.resource_not_found()


class SimulatedHost:
    """A Windows machine with XProtect Go services, answering WS-Management requests like WinRM does.

    All public methods are thread-safe: one lock guards the state.
    endless_enumeration (fault injection): when true, enumerations never end; every page carries a context.
    """

    def __init__(
        self,
        name: str,
        profile: str = 'standard',
        overrides: dict[str, dict[str, t.Any]] | None = None,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError('unknown profile %r; known: %s' % (profile, ', '.join(sorted(PROFILES))))
        self.name = name
        self.profile = profile
        self.overrides = {service: dict(changes) for service, changes in (overrides or {}).items()}
        self._clock = clock
        self._lock = threading.RLock()
        self._enumerations = Enumerations()
        # Whether the accounts that talk to this host are in Event Log Readers (may read the System log).
        self.event_log_readers = True
        self._load()

    @property
    def endless_enumeration(self) -> bool:
        return self._enumerations.endless

    @endless_enumeration.setter
    def endless_enumeration(self, value: object) -> None:
        self._enumerations.endless = bool(value)

    @property
    def enumeration_timeout(self) -> float:
        """Seconds an enumeration context lives unpulled (WinRM's EnumerationTimeoutms; 0: contexts expire at once)."""
        return self._enumerations.timeout

    @enumeration_timeout.setter
    def enumeration_timeout(self, seconds: float) -> None:
        with self._lock:
            self._enumerations.timeout = float(seconds)

    def enumerations(self) -> dict[str, t.Any]:
        """{"open": contexts still valid, "timeout": enumeration_timeout}."""
        with self._lock:
            return {'open': self._enumerations.open_count(self._clock()), 'timeout': self._enumerations.timeout}

    def expire_enumerations(self) -> int:
        """Invalidate every open enumeration context now, as if it had timed out; returns how many there were."""
        with self._lock:
            return self._enumerations.expire_all()

    # -- out-of-band API (tests, control endpoint) ------------------------------------------------

    def snapshot(self) -> dict[str, dict[str, t.Any]]:
        """{Name: {Name, DisplayName, State, StartMode, DelayedAutoStart, StartName, ProcessId, ExitCode, AcceptStop, PathName}}"""
        with self._lock:
            return self._scm.snapshot(self._scm.now())

    @property
    def history(self) -> list[dict[str, t.Any]]:
        """Every state transition so far: [{"time": epoch seconds, "service": Name, "state": State}]."""
        with self._lock:
            self._scm.now()
            return [dict(event) for event in self._scm.history]

    def configure(self, name: str, **changes: t.Any) -> dict[str, t.Any] | None:
        """Change a service out of band; returns its snapshot entry (None after remove=True).

        Keys: Win32_Service properties (DisplayName, Description, PathName, State, StartMode, DelayedAutoStart,
        StartName, AcceptStop, AcceptPause, ServiceType, ErrorControl, DesktopInteract, ExitCode), behaviour
        (start_seconds, stop_seconds, fail_start_exit_code, stuck, crash_after_seconds, deny_users, depends_on),
        add=True (a new service) or remove=True. Raises ValueError for unknown keys or values.
        """
        with self._lock:
            return self._scm.configure(name, changes, self._scm.now())

    @property
    def events(self) -> list[dict[str, t.Any]]:
        """The System log's records, oldest first (JSON-able: times in ISO 8601)."""
        with self._lock:
            self._scm.now()
            return self._scm.eventlog.snapshot()

    def rights(self, event_log_readers: bool | None = None) -> dict[str, bool]:
        """The rights of the accounts talking to the host: {"event_log_readers": bool}; a value given sets it."""
        with self._lock:
            if event_log_readers is not None:
                if not isinstance(event_log_readers, bool):
                    raise ValueError('event_log_readers must be true or false, not %r' % (event_log_readers,))
                self.event_log_readers = event_log_readers
            return {'event_log_readers': self.event_log_readers}

    def accounts(self, add: dict[str, t.Any] | None = None) -> list[dict]:
        """The accounts the host knows (without passwords); add: {name, password, upn, logon_right} to add one first."""
        with self._lock:
            if add is not None:
                t.cast(Accounts, self._scm.accounts).add(**add)
            return t.cast(Accounts, self._scm.accounts).as_list()

    def reset(self) -> None:
        """Back to the profile's state (with the constructor's overrides); history, contexts and faults cleared."""
        with self._lock:
            self.event_log_readers = True
            self.endless_enumeration = False
            self._enumerations.timeout = enumeration.ENUMERATION_TIMEOUT
            self._load()

    def handle(self, body: bytes, username: str | None) -> tuple[int, bytes]:
        """Answer one SOAP request (bytes) from an authenticated user: returns (HTTP status, reply bytes in UTF-8)."""
        try:
            request = soap.parse_request(body)
        except soap.Fault as fault:
            return 500, fault.render(self.name).encode('utf-8')
        with self._lock:
            now = self._scm.now()
            try:
                reply = self._dispatch(request, username, now)
            except soap.Fault as fault:
                return 500, fault.render(self.name, request.message_id).encode('utf-8')
        return 200, reply.encode('utf-8')

    # -- state --------------------------------------------------------------------------------------

    def _load(self):
        self._scm = ServiceControlManager(self.name, self.profile, self.overrides, self._clock)
        self._scm.accounts = Accounts(self.name, PROFILES[self.profile].accounts)
        self._registry = StdRegProv(self._scm)
        self._enumerations.clear()

    # -- WS-Management dispatch ----------------------------------------------------------------------------

    def _dispatch(self, request, username, now):
        action = request.action
        uri = request.resource_uri.lower()
        if action == soap.ACTION_ENUMERATE:
            return self._enumerate(request, now)
        if action == soap.ACTION_PULL:
            return self._enumerations.pull(request, now)
        if action == soap.ACTION_RELEASE:
            return self._enumerations.release(request)
        if action == soap.ACTION_GET:
            return self._get(request, now)
        if uri in (SERVICE_URI.lower(), STDREGPROV_URI.lower()) and action.lower().startswith(uri + '/'):
            return self._invoke(request, username, now)
        raise _unknown_resource(uri)

    def _enumerate(self, request, now):
        enumerate_element = soap.child(request.body, soap.NS_ENUMERATION, 'Enumerate')
        if enumerate_element is None:
            raise wsman_faults.missing_element('Enumerate')
        uri = request.resource_uri.lower()
        query_filter = soap.child(enumerate_element, soap.NS_WSMAN, 'Filter')
        if query_filter is None:
            query_filter = soap.child(enumerate_element, soap.NS_ENUMERATION, 'Filter')
        if uri == SERVICE_URI.lower() and query_filter is None:
            class_uri, key, selected = SERVICE_URI, 'Name', [(s.name, item) for s, item in query.all_instances(self._scm, now)]
        elif uri in (SERVICE_URI.lower(), CIMV2_ALL_URI.lower()):
            class_uri, key, selected = query.select(self._scm, query_filter, now, self.event_log_readers)
        else:
            raise _unknown_resource(uri)
        items = enumeration.mode_items(enumerate_element, selected, class_uri, key)
        return self._enumerations.enumerate(request, enumerate_element, items, now)

    def _get(self, request, now):
        uri = request.resource_uri.lower()
        if uri != SERVICE_URI.lower():
            raise _unknown_resource(uri)
        service = self._selected_service(request)
        return soap.envelope(
            'transfer', soap.ACTION_GET + 'Response', request.message_id, query.instance(self._scm, service, now), request.operation_id
        )

    def _selected_service(self, request):
        selectors = {name.lower(): value for name, value in request.selectors.items()}
        if not selectors:
            raise wsman_faults.selector_fault(
                'InsufficientSelectors',
                2150858842,
                'The WS-Management service cannot process the request because the request did not contain all required selectors. ',
            )
        if set(selectors) != {'name'}:
            raise wsman_faults.selector_fault(
                'UnexpectedSelectors',
                2150858843,
                'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ',
            )
        service = self._scm.find(selectors['name'])
        if service is None:
            raise wsman_faults.instance_not_found(SERVICE_CLASS, 'Name', selectors['name'])
        return service

    def _invoke(self, request, username, now):
        uri = request.resource_uri.lower()
        requested = request.action[len(uri) + 1 :]
        class_uri, methods = (SERVICE_URI, SERVICE_METHODS) if uri == SERVICE_URI.lower() else (STDREGPROV_URI, StdRegProv.METHODS)
        method = next((name for name in methods if name.lower() == requested.lower()), None)
        if method is None:
            raise wsman_faults.action_not_supported()
        params = _method_input(request, method)
        if class_uri == SERVICE_URI:
            outputs = [('ReturnValue', self._service_method(request, method, params, username, now))]
        else:
            outputs = self._registry.call(method, params, username)
        body = soap.method_output_xml(class_uri, method, outputs)
        return soap.envelope('transfer', '%s/%sResponse' % (class_uri, method), request.message_id, body, request.operation_id)

    def _service_method(self, request, method, params, username, now):
        service = self._selected_service(request)
        if method == 'StartService':
            return self._scm.start_service(service, username, now)
        if method == 'StopService':
            return self._scm.stop_service(service, username, now)
        if method == 'Change':
            return self._scm.change(service, username, params)
        return self._scm.change_start_mode(service, username, params.get('startmode'))


def _method_input(request, method):
    """The <Method>_INPUT parameters as {lower-case name: text or None}."""
    inputs = list(request.body)
    if not inputs:
        return {}
    element = inputs[0]
    if soap.local_name(element.tag).lower() != ('%s_INPUT' % method).lower():
        raise wsman_faults.missing_element('%s_INPUT' % method)
    return {soap.local_name(param.tag).lower(): None if soap.is_nil(param) else (param.text or '') for param in element}
