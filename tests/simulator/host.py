# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One simulated Windows machine: its Service Control Manager, and the WMI view of it through WinRM.

States are computed lazily from the clock, without threads: StartService puts a plan of timed
transitions on the service (Start Pending now, Running start_seconds later, ...) and every call
first applies the transitions that are due. History keeps each transition at the time it
logically happened, so a fake clock makes everything deterministic.

Windows behaviours modelled here, and where they come from:
- Win32_Service properties, their order (alphabetical, case-insensitive), nulls, booleans, and
  the dynamic ones (AcceptStop only while running, ExitCode 1077 for never started services):
  the Server 2003/2012 captures. DelayedAutoStart exists since Windows Server 2016.
- Method ReturnValues: the Win32_Service documentation (codes in the project's contracts).
  StartService checks Disabled before the state (as ReactOS's SCM does); StopService answers 5
  for a stopped service and 3 while dependents are active.
- Faults: the captured shapes (CannotProcessFilter, DestinationUnreachable, InvalidSelectors);
  HRESULTs and texts of the others from wsmerror.h.
- Enumerations: OptimizeEnumeration, MaxElements (default 1), pages cut near 75 KB, a fresh
  context per page, contexts expiring after EnumerationTimeoutms (240 s) idle.
"""

from __future__ import annotations

import threading
import time
import zlib

from . import soap, wql
from .profiles import PROFILES, SERVICE_DEFAULTS

SERVICE_CLASS = 'Win32_Service'
SERVICE_URI = soap.WMI_BASE + 'root/cimv2/Win32_Service'
CIMV2_ALL_URI = soap.WMI_BASE + 'root/cimv2/*'
STDREGPROV_URI = soap.WMI_BASE + 'root/default/StdRegProv'
DEPENDENT_SERVICE_CLASS = 'Win32_DependentService'

# Every property of a Win32_Service instance, in the order WinRM writes them.
WIN32_SERVICE_PROPERTIES = tuple(sorted((
    'AcceptPause', 'AcceptStop', 'Caption', 'CheckPoint', 'CreationClassName', 'DelayedAutoStart', 'Description',
    'DesktopInteract', 'DisplayName', 'ErrorControl', 'ExitCode', 'InstallDate', 'Name', 'PathName', 'ProcessId',
    'ServiceSpecificExitCode', 'ServiceType', 'Started', 'StartMode', 'StartName', 'State', 'Status',
    'SystemCreationClassName', 'SystemName', 'TagId', 'WaitHint'), key=str.lower))
SNAPSHOT_KEYS = ('Name', 'DisplayName', 'State', 'StartMode', 'DelayedAutoStart', 'StartName', 'ProcessId', 'ExitCode',
                 'AcceptStop', 'PathName')

PROPERTY_KEYS = frozenset(('DisplayName', 'Description', 'PathName', 'State', 'StartMode', 'DelayedAutoStart', 'StartName',
                           'AcceptStop', 'AcceptPause', 'ServiceType', 'ErrorControl', 'DesktopInteract', 'ExitCode'))
BEHAVIOUR_KEYS = frozenset(('start_seconds', 'stop_seconds', 'fail_start_exit_code', 'stuck', 'crash_after_seconds',
                            'deny_users', 'depends_on'))
STATES = ('Stopped', 'Start Pending', 'Stop Pending', 'Running', 'Paused')
PENDING_STATES = ('Start Pending', 'Stop Pending')
START_MODES = ('Auto', 'Manual', 'Disabled', 'Boot', 'System')
# ChangeStartMode's argument -> the StartMode WMI then reports.
CHANGE_START_MODES = {'automatic': 'Auto', 'manual': 'Manual', 'disabled': 'Disabled'}

# Win32_Service method ReturnValues.
SUCCESS = 0
ACCESS_DENIED = 2
DEPENDENT_SERVICES_RUNNING = 3
CANNOT_ACCEPT_CONTROL = 5
ALREADY_RUNNING = 10
DEPENDENCY_DELETED = 12
DEPENDENCY_FAILURE = 13
SERVICE_DISABLED = 14
CIRCULAR_DEPENDENCY = 18
INVALID_PARAMETER = 21

# Win32 codes: ExitCode of a crashed service, and StdRegProv's answers.
PROCESS_TERMINATED = 1067
REG_SUCCESS = 0
REG_NOT_FOUND_VALUE = 1
REG_NOT_FOUND = 2
REG_ACCESS_DENIED = 5
REG_INVALID_PARAMETER = 87
HKEY_LOCAL_MACHINE = 2147483650
SERVICES_KEY = 'system\\currentcontrolset\\services\\'
DELAYED_VALUE = 'delayedautostart'

ENUMERATION_TIMEOUT = 240.0       # seconds, WinRM's default EnumerationTimeoutms
MAX_ENUMERATIONS = 500            # open contexts kept per host; the oldest go first
PAGE_LIMIT = 75 * 1024            # Windows cuts Pull pages near 75 KB whatever MaxElements asks for
ENVELOPE_OVERHEAD = 1024          # room for the envelope around the items
CHECKPOINT_SECONDS = 0.5          # a pending service advances its CheckPoint this often
HUNG_WAIT_HINT = 2000             # ms; a hung service reports a wait hint but never advances

_NOT_FOUND = 'The WS-Management service cannot process the request. The service cannot find the resource identified by the ' \
             'resource URI and selectors. '
_FILTER_REASON = 'The data source could not process the filter. The filter might be missing or it might be invalid. ' \
                 'Change the filter and try the request again.  '
_FILTER_MESSAGES = {
    'class': 'The specified class does not exist in the given namespace. ',
    'property': 'The WQL query is invalid: it names a property the class does not have. ',
    'syntax': 'The WQL query is invalid. ',
}
_INVALID_CONTEXT = 'The WS-Enumeration context in the enumeration is not valid. Enumeration may have been completed or ' \
                   'canceled. You cannot use this enumeration context anymore. Start a new enumeration. '


def account_name(user):
    """The account part of 'DOMAIN\\user', 'user@domain' or 'user', lower case."""
    user = (user or '').strip().rsplit('\\', 1)[-1]
    return user.split('@', 1)[0].lower()


class _Service:
    """The SCM's record of one service: its configuration and its current status."""

    __slots__ = ('config', 'state', 'process_id', 'exit_code', 'plan', 'pending')

    def __init__(self, config):
        self.config = config            # configure() vocabulary: Win32_Service properties + behaviour keys
        self.state = config['State']
        self.exit_code = config['ExitCode']
        self.process_id = 0
        self.plan = []                  # future transitions: [(time, state, exit code)], in time order
        self.pending = None             # (since, until or None when hung) while in a pending state

    @property
    def name(self):
        return self.config['Name']

    def depends_on(self, other):
        return other.name.lower() in (name.lower() for name in self.config['depends_on'])


class _Enumeration:
    __slots__ = ('items', 'position', 'deadline')

    def __init__(self, items, position, deadline):
        self.items = items
        self.position = position
        self.deadline = deadline


class SimulatedHost:
    """A Windows machine with XProtect Go services, answering WS-Management requests like WinRM does.

    All public methods are thread-safe: one lock guards the state.
    endless_enumeration (fault injection): when true, enumerations never end; every page carries a context.
    """

    def __init__(self, name, profile='standard', overrides=None, clock=time.time):
        if profile not in PROFILES:
            raise ValueError('unknown profile %r; known: %s' % (profile, ', '.join(sorted(PROFILES))))
        self.name = name
        self.profile = profile
        self.overrides = {service: dict(changes) for service, changes in (overrides or {}).items()}
        self.endless_enumeration = False
        self._clock = clock
        self._lock = threading.RLock()
        self._load()

    # -- out-of-band API (tests, control endpoint) ------------------------------------------------

    def snapshot(self):
        """{Name: {Name, DisplayName, State, StartMode, DelayedAutoStart, StartName, ProcessId, ExitCode, AcceptStop, PathName}}"""
        with self._lock:
            now = self._now()
            return {service.name: self._snapshot_entry(service, now) for service in self._sorted_services()}

    @property
    def history(self):
        """Every state transition so far: [{"time": epoch seconds, "service": Name, "state": State}]."""
        with self._lock:
            self._now()
            return [dict(event) for event in self._history]

    def configure(self, name, **changes):
        """Change a service out of band; returns its snapshot entry (None after remove=True).

        Keys: Win32_Service properties (DisplayName, Description, PathName, State, StartMode, DelayedAutoStart,
        StartName, AcceptStop, AcceptPause, ServiceType, ErrorControl, DesktopInteract, ExitCode), behaviour
        (start_seconds, stop_seconds, fail_start_exit_code, stuck, crash_after_seconds, deny_users, depends_on),
        add=True (a new service) or remove=True. Raises ValueError for unknown keys or values.
        """
        with self._lock:
            return self._configure(name, changes, self._now())

    def reset(self):
        """Back to the profile's state (with the constructor's overrides); history, contexts and faults cleared."""
        with self._lock:
            self.endless_enumeration = False
            self._load()

    def handle(self, body, username):
        """Answer one SOAP request (bytes) from an authenticated user: returns (HTTP status, reply bytes in UTF-8)."""
        try:
            request = soap.parse_request(body)
        except soap.Fault as fault:
            return 500, fault.render(self.name).encode('utf-8')
        with self._lock:
            now = self._now()
            try:
                reply = self._dispatch(request, username, now)
            except soap.Fault as fault:
                return 500, fault.render(self.name, request.message_id).encode('utf-8')
        return 200, reply.encode('utf-8')

    # -- state --------------------------------------------------------------------------------------

    def _load(self):
        self._services = {}
        self._history = []
        self._enumerations = {}
        self._registry = {}             # (service key lower, value name lower) -> DWORD written through StdRegProv
        self._delayed_written = set()   # services whose DelayedAutostart value was written
        self._next_pid = 1000 + (zlib.crc32(self.name.encode('utf-8')) % 1000) * 4
        for spec in PROFILES[self.profile].services:
            self._services[spec['Name'].lower()] = _Service(dict(spec))
        now = self._clock()
        for name, changes in self.overrides.items():
            self._configure(name, changes, now)
        for service in self._services.values():
            if service.state != 'Stopped' and not service.process_id:
                service.process_id = self._new_pid()
        self._history = []      # overrides are the starting point, not events

    def _now(self):
        now = self._clock()
        self._advance(now)
        return now

    def _new_pid(self):
        self._next_pid += 4      # Windows process ids are multiples of 4
        return self._next_pid

    def _sorted_services(self):
        return sorted(self._services.values(), key=lambda service: service.name.lower())

    def _find(self, name):
        return self._services.get(str(name).lower())

    def _advance(self, now):
        """Apply every planned transition due by now, across services, in time order."""
        due = []
        for service in self._services.values():
            for step in service.plan:
                if step[0] > now:
                    break
                due.append((step[0], len(due), service))
        due.sort(key=lambda item: (item[0], item[1]))
        for _time, _order, service in due:
            when, state, exit_code = service.plan.pop(0)
            until = service.plan[0][0] if service.plan else None
            self._apply(service, when, state, exit_code, until)

    def _apply(self, service, when, state, exit_code=0, until=None):
        previous = service.state
        service.state = state
        if state == 'Start Pending' or (state != 'Stopped' and not service.process_id):
            service.process_id = self._new_pid()
            service.exit_code = 0
        if state == 'Stopped':
            service.process_id = 0
            service.exit_code = exit_code
        service.pending = (when, until) if state in PENDING_STATES else None
        if state != previous:
            self._history.append({'time': when, 'service': service.name, 'state': state})

    def _properties(self, service, now):
        config = service.config
        state = service.state
        active = state in ('Running', 'Paused')
        check_point = wait_hint = 0
        if service.pending:
            since, until = service.pending
            if until is None:
                check_point, wait_hint = 1, HUNG_WAIT_HINT
            else:
                check_point = 1 + int((now - since) / CHECKPOINT_SECONDS)
                wait_hint = max(1, int((until - since) * 1000))
        return {
            'AcceptPause': bool(config['AcceptPause'] and active),
            'AcceptStop': bool(config['AcceptStop'] and active),
            'Caption': config['DisplayName'],
            'CheckPoint': check_point,
            'CreationClassName': SERVICE_CLASS,
            'DelayedAutoStart': config['DelayedAutoStart'],
            'Description': config['Description'],
            'DesktopInteract': config['DesktopInteract'],
            'DisplayName': config['DisplayName'],
            'ErrorControl': config['ErrorControl'],
            'ExitCode': service.exit_code,
            'InstallDate': None,
            'Name': config['Name'],
            'PathName': config['PathName'],
            'ProcessId': service.process_id,
            'ServiceSpecificExitCode': 0,
            'ServiceType': config['ServiceType'],
            'Started': state != 'Stopped',
            'StartMode': config['StartMode'],
            'StartName': config['StartName'],
            'State': state,
            'Status': 'OK',
            'SystemCreationClassName': 'Win32_ComputerSystem',
            'SystemName': self.name.upper(),
            'TagId': 0,
            'WaitHint': wait_hint,
        }

    def _snapshot_entry(self, service, now):
        properties = self._properties(service, now)
        return {key: properties[key] for key in SNAPSHOT_KEYS}

    # -- configure ------------------------------------------------------------------------------------

    def _configure(self, name, changes, now):
        changes = dict(changes)
        add = changes.pop('add', False)
        remove = changes.pop('remove', False)
        if not isinstance(name, str) or not name.strip():
            raise ValueError('a service name is required')
        unknown = set(changes) - PROPERTY_KEYS - BEHAVIOUR_KEYS
        if unknown:
            raise ValueError('unknown settings %s for service %r; known: %s, add, remove'
                             % (', '.join(sorted(unknown)), name, ', '.join(sorted(PROPERTY_KEYS | BEHAVIOUR_KEYS))))
        values = _validated(changes)
        service = self._find(name)
        if remove:
            if values or add:
                raise ValueError('remove=True takes no other settings')
            if service is None:
                raise ValueError('host %s has no service %r' % (self.name, name))
            del self._services[name.lower()]
            return None
        if add:
            if service is not None:
                raise ValueError('host %s already has a service %r' % (self.name, service.name))
            config = dict(SERVICE_DEFAULTS, Name=name, DisplayName=name)
            config.update(values)
            service = self._services[name.lower()] = _Service(config)
            if service.state != 'Stopped':
                service.process_id = self._new_pid()
            return self._snapshot_entry(service, now)
        if service is None:
            raise ValueError('host %s has no service %r (use add=True to create it)' % (self.name, name))
        state = values.pop('State', None)
        exit_code = values.pop('ExitCode', None)
        service.config.update(values)
        if state is not None:
            service.plan = []
            self._apply(service, now, state)
        if exit_code is not None:
            service.exit_code = exit_code
        if values.get('crash_after_seconds') is not None and service.state == 'Running' and not service.plan:
            service.plan = [(now + values['crash_after_seconds'], 'Stopped', PROCESS_TERMINATED)]
        return self._snapshot_entry(service, now)

    # -- the Service Control Manager ---------------------------------------------------------------------

    def _start_service(self, service, username, now):
        if _denied(service, username):
            return ACCESS_DENIED
        if service.config['StartMode'] == 'Disabled':
            return SERVICE_DISABLED
        if service.state != 'Stopped':
            return ALREADY_RUNNING
        code, ready = self._start_dependencies(service, now, {service.name.lower()})
        if code:
            return code
        self._begin_start(service, now, ready)
        return SUCCESS

    def _start_dependencies(self, service, now, chain):
        """Start what the service depends on, first (as the SCM does). Returns (ReturnValue, time all of them run)."""
        ready = now
        for dependency_name in service.config['depends_on']:
            dependency = self._find(dependency_name)
            if dependency is None:
                return DEPENDENCY_DELETED, None
            if dependency.name.lower() in chain:
                return CIRCULAR_DEPENDENCY, None
            if dependency.state in ('Running', 'Paused'):
                continue
            if dependency.state == 'Start Pending':
                running_at = _running_time(dependency)
            elif dependency.state == 'Stopped' and dependency.config['StartMode'] != 'Disabled':
                code, dependency_ready = self._start_dependencies(dependency, now, chain | {dependency.name.lower()})
                if code:
                    return (CIRCULAR_DEPENDENCY if code == CIRCULAR_DEPENDENCY else DEPENDENCY_FAILURE), None
                running_at = self._begin_start(dependency, now, dependency_ready)
            else:
                running_at = None
            if running_at is None:
                return DEPENDENCY_FAILURE, None
            ready = max(ready, running_at)
        return SUCCESS, ready

    def _begin_start(self, service, now, ready):
        """Plan Start Pending -> Running (or failure); returns when it will be running, None if it never will."""
        config = service.config
        finish = ready + config['start_seconds']
        steps = [(now, 'Start Pending', 0)]
        running_at = None
        if config['stuck'] == 'Start Pending':
            steps = steps[:1]       # hung: no further transition ever comes
        elif config['fail_start_exit_code']:
            steps.append((finish, 'Stopped', config['fail_start_exit_code']))
        else:
            running_at = finish
            steps.append((finish, 'Running', 0))
            if config['crash_after_seconds'] is not None:
                steps.append((finish + config['crash_after_seconds'], 'Stopped', PROCESS_TERMINATED))
        service.plan = steps
        self._advance(now)
        return running_at

    def _stop_service(self, service, username, now):
        if _denied(service, username):
            return ACCESS_DENIED
        if service.state in ('Stopped', 'Stop Pending'):
            return CANNOT_ACCEPT_CONTROL
        if any(other.state != 'Stopped' and other.depends_on(service) for other in self._services.values()):
            return DEPENDENT_SERVICES_RUNNING
        if not (service.config['AcceptStop'] and service.state in ('Running', 'Paused')):
            return CANNOT_ACCEPT_CONTROL
        steps = [(now, 'Stop Pending', 0)]
        if service.config['stuck'] != 'Stop Pending':
            steps.append((now + service.config['stop_seconds'], 'Stopped', 0))
        service.plan = steps
        self._advance(now)
        return SUCCESS

    def _change_start_mode(self, service, username, mode):
        if _denied(service, username):
            return ACCESS_DENIED
        start_mode = CHANGE_START_MODES.get((mode or '').lower())
        if start_mode is None:
            return INVALID_PARAMETER
        service.config['StartMode'] = start_mode
        return SUCCESS

    # -- WS-Management dispatch ----------------------------------------------------------------------------

    def _dispatch(self, request, username, now):
        action = request.action
        uri = request.resource_uri.lower()
        if action == soap.ACTION_ENUMERATE:
            return self._enumerate(request, now)
        if action == soap.ACTION_PULL:
            return self._pull(request, now)
        if action == soap.ACTION_RELEASE:
            return self._release(request)
        if action == soap.ACTION_GET:
            return self._get(request, now)
        if uri in (SERVICE_URI.lower(), STDREGPROV_URI.lower()) and action.lower().startswith(uri + '/'):
            return self._invoke(request, username, now)
        raise _action_not_supported() if _is_known_resource(uri) else _resource_not_found()

    def _reply(self, kind, action, request, body):
        return soap.envelope(kind, action, request.message_id, body, request.operation_id)

    # Enumerate / Pull / Release

    def _enumerate(self, request, now):
        enumerate_element = soap.child(request.body, soap.NS_ENUMERATION, 'Enumerate')
        if enumerate_element is None:
            raise _missing_element('Enumerate')
        uri = request.resource_uri.lower()
        query_filter = soap.child(enumerate_element, soap.NS_WSMAN, 'Filter')
        if query_filter is None:
            query_filter = soap.child(enumerate_element, soap.NS_ENUMERATION, 'Filter')
        if uri == SERVICE_URI.lower() and query_filter is None:
            items = [self._instance(service, now) for service in self._sorted_services()]
        elif uri in (SERVICE_URI.lower(), CIMV2_ALL_URI.lower()):
            items = self._query(query_filter, now)
        elif _is_known_resource(uri):
            raise _action_not_supported()
        else:
            raise _resource_not_found()
        self._forget_expired(now)
        optimize = soap.child(enumerate_element, soap.NS_WSMAN, 'OptimizeEnumeration') is not None
        if not optimize:
            context = self._keep(items, 0, now)
            body = '<n:EnumerateResponse><n:EnumerationContext>%s</n:EnumerationContext></n:EnumerateResponse>' % context
            return self._reply('enumeration', soap.NS_ENUMERATION + '/EnumerateResponse', request, body)
        end = self._page_end(items, 0, _max_elements(enumerate_element, soap.NS_WSMAN), request.max_envelope_size)
        page = ''.join(items[:end])
        if end == len(items) and not self.endless_enumeration:
            # Everything fits: one round trip, an empty context and w:EndOfSequence (as Server 2003 shows).
            body = ('<n:EnumerateResponse><n:EnumerationContext></n:EnumerationContext><w:Items>%s</w:Items>'
                    '<w:EndOfSequence/></n:EnumerateResponse>' % page)
        else:
            body = ('<n:EnumerateResponse><n:EnumerationContext>%s</n:EnumerationContext><w:Items>%s</w:Items>'
                    '</n:EnumerateResponse>' % (self._keep(items, end, now), page))
        return self._reply('enumeration', soap.NS_ENUMERATION + '/EnumerateResponse', request, body)

    def _pull(self, request, now):
        pull = soap.child(request.body, soap.NS_ENUMERATION, 'Pull')
        if pull is None:
            raise _missing_element('Pull')
        enumeration = self._take_context(pull, now)
        items, start = enumeration.items, enumeration.position
        if self.endless_enumeration and start >= len(items):
            start = 0
        end = self._page_end(items, start, _max_elements(pull, soap.NS_ENUMERATION), request.max_envelope_size)
        page = ''.join(items[start:end])
        if end >= len(items) and not self.endless_enumeration:
            body = '<n:PullResponse><n:Items>%s</n:Items><n:EndOfSequence/></n:PullResponse>' % page
        else:
            body = ('<n:PullResponse><n:EnumerationContext>%s</n:EnumerationContext><n:Items>%s</n:Items></n:PullResponse>'
                    % (self._keep(items, end, now), page))
        return self._reply('enumeration', soap.NS_ENUMERATION + '/PullResponse', request, body)

    def _release(self, request):
        release = soap.child(request.body, soap.NS_ENUMERATION, 'Release')
        if release is None:
            raise _missing_element('Release')
        self._take_context(release, None)
        return self._reply('enumeration', soap.NS_ENUMERATION + '/ReleaseResponse', request, '')

    def _keep(self, items, position, now):
        """Store the rest of an enumeration under a new context id (Windows hands out a new one per page)."""
        while len(self._enumerations) >= MAX_ENUMERATIONS:
            del self._enumerations[next(iter(self._enumerations))]
        context = soap.new_uuid()
        self._enumerations[context] = _Enumeration(items, position, now + ENUMERATION_TIMEOUT)
        return context

    def _take_context(self, element, now):
        context_element = soap.child(element, soap.NS_ENUMERATION, 'EnumerationContext')
        context = (context_element.text or '').strip() if context_element is not None else ''
        enumeration = self._enumerations.pop(context, None)
        if enumeration is None or (now is not None and enumeration.deadline < now):
            raise soap.Fault('n:InvalidEnumerationContext', 2150858779, _INVALID_CONTEXT, action=soap.FAULT_ACTION_ENUMERATION,
                             code='s:Receiver')
        return enumeration

    def _forget_expired(self, now):
        for context in [context for context, enumeration in self._enumerations.items() if enumeration.deadline < now]:
            del self._enumerations[context]

    @staticmethod
    def _page_end(items, start, max_elements, max_envelope_size):
        """Index after the last item of the page starting at start: at most max_elements, and near 75 KB."""
        limit = min(PAGE_LIMIT, max_envelope_size or PAGE_LIMIT) - ENVELOPE_OVERHEAD
        size = 0
        end = start
        while end < len(items) and end - start < max_elements:
            size += len(items[end].encode('utf-8'))
            if end > start and size > limit:
                break
            end += 1
        return end

    def _query(self, query_filter, now):
        """The items a WQL filter selects (XML text each)."""
        if query_filter is None:
            raise _filter_fault('', 'syntax')
        if query_filter.get('Dialect') != soap.WQL_DIALECT:
            raise soap.Fault('n:FilterDialectRequestedUnavailable', 2150858777,
                             'The filter dialect (the type associated with the filter) was not supported for this resource. '
                             'Change the filter dialect or remove it from the request and try the request again. ',
                             action=soap.FAULT_ACTION_ENUMERATION)
        text = query_filter.text or ''
        try:
            query = wql.parse(text, {SERVICE_CLASS: WIN32_SERVICE_PROPERTIES})
            if isinstance(query, wql.AssociatorsQuery):
                return [self._instance(service, now) for service in self._associators(query)]
        except wql.WqlError as error:
            raise _filter_fault(text, error.kind) from None
        rows = [self._properties(service, now) for service in self._sorted_services()]
        rows = [row for row in rows if query.matches(row)]
        if query.properties is None:
            return [soap.instance_xml(SERVICE_URI, SERVICE_CLASS, [(name, row[name]) for name in WIN32_SERVICE_PROPERTIES])
                    for row in rows]
        # WMI writes a projection's properties in its usual (alphabetical) order, whatever order the query named.
        names = sorted(query.properties, key=str.lower)
        return [soap.fragment_xml([(name, row[name]) for name in names]) for row in rows]

    def _associators(self, query):
        """Services associated with the query's object through Win32_DependentService, by Name."""
        if query.assoc_class is not None and query.assoc_class.lower() != DEPENDENT_SERVICE_CLASS.lower():
            raise wql.WqlError('association class %s is not simulated' % query.assoc_class, kind='class')
        if query.result_class is not None and query.result_class.lower() != SERVICE_CLASS.lower():
            raise wql.WqlError('result class %s is not simulated' % query.result_class, kind='class')
        roles = {'antecedent': 'Antecedent', 'dependent': 'Dependent', None: None}
        role = roles.get(query.role.lower() if query.role else None, '')
        result_role = roles.get(query.result_role.lower() if query.result_role else None, '')
        if '' in (role, result_role):
            raise wql.WqlError('Role and ResultRole of %s are Antecedent or Dependent' % DEPENDENT_SERVICE_CLASS)
        source = self._find(query.value) if query.key in (None, 'Name') else None
        if source is None:
            return []
        related = {}
        if role != 'Dependent' and result_role != 'Antecedent':
            # The source is the Antecedent: the results are the services that depend on it.
            related.update((other.name.lower(), other) for other in self._services.values() if other.depends_on(source))
        if role != 'Antecedent' and result_role != 'Dependent':
            for name in source.config['depends_on']:
                dependency = self._find(name)
                if dependency is not None:
                    related[dependency.name.lower()] = dependency
        return [related[key] for key in sorted(related)]

    def _instance(self, service, now):
        properties = self._properties(service, now)
        return soap.instance_xml(SERVICE_URI, SERVICE_CLASS, [(name, properties[name]) for name in WIN32_SERVICE_PROPERTIES])

    # Get and Invoke

    def _get(self, request, now):
        uri = request.resource_uri.lower()
        if uri != SERVICE_URI.lower():
            raise _action_not_supported() if _is_known_resource(uri) else _resource_not_found()
        service = self._selected_service(request)
        return self._reply('transfer', soap.ACTION_GET + 'Response', request, self._instance(service, now))

    def _selected_service(self, request):
        selectors = {name.lower(): value for name, value in request.selectors.items()}
        if not selectors:
            raise _selector_fault('InsufficientSelectors', 2150858842, 'The WS-Management service cannot process the request '
                                  'because the request did not contain all required selectors. ')
        if set(selectors) != {'name'}:
            raise _selector_fault('UnexpectedSelectors', 2150858843, 'The WS-Management service cannot process the request '
                                  'because the request contained invalid selectors for the resource. ')
        service = self._find(selectors['name'])
        if service is None:
            path = '%s.Name="%s"' % (SERVICE_CLASS, selectors['name'].replace('\\', '\\\\').replace('"', '\\"'))
            raise soap.Fault('a:DestinationUnreachable', 2150858752, _NOT_FOUND, action=soap.FAULT_ACTION_ADDRESSING,
                             detail='InvalidResourceURI', provider=soap.WMI_PROVIDER,
                             extended_status={'Operation': 'GetObject', 'ParameterInfo': path, 'ProviderName': 'CIMWin32'})
        return service

    def _invoke(self, request, username, now):
        uri = request.resource_uri.lower()
        requested = request.action[len(uri) + 1:]
        if uri == SERVICE_URI.lower():
            class_uri, methods = SERVICE_URI, ('StartService', 'StopService', 'ChangeStartMode')
        else:
            class_uri, methods = STDREGPROV_URI, ('SetDWORDValue', 'GetDWORDValue')
        method = next((name for name in methods if name.lower() == requested.lower()), None)
        if method is None:
            raise _action_not_supported()
        params = _method_input(request, method)
        if class_uri == SERVICE_URI:
            service = self._selected_service(request)
            if method == 'StartService':
                outputs = [('ReturnValue', self._start_service(service, username, now))]
            elif method == 'StopService':
                outputs = [('ReturnValue', self._stop_service(service, username, now))]
            else:
                outputs = [('ReturnValue', self._change_start_mode(service, username, params.get('startmode')))]
        elif method == 'SetDWORDValue':
            outputs = [('ReturnValue', self._set_dword(params, username))]
        else:
            outputs = self._get_dword(params)
        body = soap.method_output_xml(class_uri, method, outputs)
        return self._reply('transfer', '%s/%sResponse' % (class_uri, method), request, body)

    # StdRegProv, for HKLM\SYSTEM\CurrentControlSet\Services\<Name>

    def _registry_value(self, params):
        """(service, value name lower) for the parameters, or a StdRegProv error code."""
        try:
            hive = int(params.get('hdefkey') or HKEY_LOCAL_MACHINE)
        except ValueError:
            return REG_INVALID_PARAMETER
        key = (params.get('ssubkeyname') or '').strip('\\').lower()
        value_name = (params.get('svaluename') or '').lower()
        if hive != HKEY_LOCAL_MACHINE or not key.startswith(SERVICES_KEY):
            return REG_NOT_FOUND
        service = self._find(key[len(SERVICES_KEY):])
        if service is None:
            return REG_NOT_FOUND
        return service, value_name

    def _set_dword(self, params, username):
        target = self._registry_value(params)
        if isinstance(target, int):
            return target
        service, value_name = target
        try:
            value = int(params.get('uvalue'))
        except (TypeError, ValueError):
            return REG_INVALID_PARAMETER
        if not 0 <= value <= 0xFFFFFFFF:
            return REG_INVALID_PARAMETER
        if _denied(service, username):
            return REG_ACCESS_DENIED
        if value_name == DELAYED_VALUE:
            service.config['DelayedAutoStart'] = value != 0
            self._delayed_written.add(service.name.lower())
        else:
            self._registry[(service.name.lower(), value_name)] = value
        return REG_SUCCESS

    def _get_dword(self, params):
        target = self._registry_value(params)
        if isinstance(target, int):
            return [('ReturnValue', target)]
        service, value_name = target
        if value_name == DELAYED_VALUE and (service.config['DelayedAutoStart'] or service.name.lower() in self._delayed_written):
            value = int(service.config['DelayedAutoStart'])
        else:
            value = self._registry.get((service.name.lower(), value_name))
        if value is None:
            return [('ReturnValue', REG_NOT_FOUND_VALUE)]
        return [('ReturnValue', REG_SUCCESS), ('uValue', value)]


def _denied(service, username):
    account = account_name(username)
    return any(account_name(user) == account for user in service.config['deny_users'])


def _running_time(service):
    """When a Start Pending service will be Running, or None if it will fail or hang."""
    return next((when for when, state, _code in service.plan if state == 'Running'), None)


def _max_elements(element, namespace):
    """MaxElements of an Enumerate (w:) or Pull (n:); 1 when absent, as WS-Management specifies."""
    count = soap.child(element, namespace, 'MaxElements')
    return soap.parse_count(count.text, 'MaxElements') if count is not None else 1


def _method_input(request, method):
    """The <Method>_INPUT parameters as {lower-case name: text or None}."""
    inputs = list(request.body)
    if not inputs:
        return {}
    element = inputs[0]
    if soap.local_name(element.tag).lower() != ('%s_INPUT' % method).lower():
        raise _missing_element('%s_INPUT' % method)
    return {soap.local_name(param.tag).lower(): None if soap.is_nil(param) else (param.text or '') for param in element}


def _is_known_resource(uri):
    return uri in (SERVICE_URI.lower(), CIMV2_ALL_URI.lower(), STDREGPROV_URI.lower())


def _resource_not_found():
    return soap.Fault('a:DestinationUnreachable', 2150858752, _NOT_FOUND, action=soap.FAULT_ACTION_ADDRESSING,
                      detail='InvalidResourceURI')


def _action_not_supported():
    return soap.Fault('a:ActionNotSupported', 2150858771, 'The WS-Management service does not support the action specified '
                      'in the request. ', action=soap.FAULT_ACTION_ADDRESSING)


def _missing_element(name):
    return soap.Fault('w:SchemaValidationError', 2150858817, 'WinRM cannot process the request because the request is missing '
                      'the element titled \'%s\'. ' % name)


def _selector_fault(detail, hresult, reason):
    return soap.Fault('w:InvalidSelectors', hresult, reason, detail=detail, provider=soap.WMI_PROVIDER)


def _filter_fault(query, kind):
    return soap.Fault('n:CannotProcessFilter', 2150858778, _FILTER_REASON, action=soap.FAULT_ACTION_ENUMERATION,
                      provider=soap.WMI_PROVIDER, provider_message=_FILTER_MESSAGES[kind],
                      extended_status={'Operation': 'ExecQuery', 'ParameterInfo': query, 'ProviderName': 'WinMgmt'})


def _validated(changes):
    """configure() values checked and normalised; ValueError names the first bad one."""
    values = {}
    for key, value in changes.items():
        if key == 'State' and value not in STATES:
            raise ValueError('State must be one of %s, not %r' % (', '.join(STATES), value))
        if key == 'StartMode' and value not in START_MODES:
            raise ValueError('StartMode must be one of %s (as WMI reports it), not %r' % (', '.join(START_MODES), value))
        if key in ('DelayedAutoStart', 'AcceptStop', 'AcceptPause', 'DesktopInteract') and not isinstance(value, bool):
            raise ValueError('%s must be true or false, not %r' % (key, value))
        if key in ('DisplayName', 'StartName', 'ServiceType', 'ErrorControl') and not isinstance(value, str):
            raise ValueError('%s must be a string, not %r' % (key, value))
        if key in ('Description', 'PathName') and value is not None and not isinstance(value, str):
            raise ValueError('%s must be a string or null, not %r' % (key, value))
        if key == 'ExitCode' and not _is_number(value, integer=True):
            raise ValueError('ExitCode must be a non-negative integer, not %r' % (value,))
        if key in ('start_seconds', 'stop_seconds') and not _is_number(value):
            raise ValueError('%s must be a non-negative number of seconds, not %r' % (key, value))
        if key == 'crash_after_seconds' and value is not None and not _is_number(value):
            raise ValueError('crash_after_seconds must be a non-negative number of seconds or null, not %r' % (value,))
        if key == 'fail_start_exit_code' and value is not None and not (_is_number(value, integer=True) and value > 0):
            raise ValueError('fail_start_exit_code must be a positive Win32 error code or null, not %r' % (value,))
        if key == 'stuck' and value not in (None,) + PENDING_STATES:
            raise ValueError('stuck must be "Start Pending", "Stop Pending" or null, not %r' % (value,))
        if key in ('deny_users', 'depends_on'):
            if isinstance(value, str) or not all(isinstance(item, str) for item in value):
                raise ValueError('%s must be a list of names, not %r' % (key, value))
            value = tuple(value)
        values[key] = value
    return values


def _is_number(value, integer=False):
    allowed = (int,) if integer else (int, float)
    return isinstance(value, allowed) and not isinstance(value, bool) and value >= 0
