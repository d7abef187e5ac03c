# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Watch a fleet's XProtect services and tell what changed: the event source xprotect.go.service_status.

Private to the collection: its interface may change without notice.

  parse_arguments(args, environ) -> WatchSettings   every argument checked before anything is read
  load_targets(settings, environ) -> [Target]        hosts from an inventory (ansible-core) or the arguments
  FleetWatch(settings, targets).run(queue)           the asyncio loop: one task per host, reads in threads

Every host is read with one WS-Management round trip per interval (a discovery the first time,
then a status query by name), in a bounded pool of threads so that the blocking client never runs
on the event loop. Events follow the shape documented in the source plugin (EVENTS there).
ansible-core is imported only to read an inventory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import difflib
import logging
import math
import os
import time
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _maintenance as maintenance
from ansible_collections.xprotect.go.plugins.module_utils._connection import resolve_connection
from ansible_collections.xprotect.go.plugins.module_utils._connection_options import (
    CONNECTION_OPTIONS, INVENTORY_VARIABLE_NAMES, OPTIONS, host_settings_from_vars)
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._plan import validate_service_names
from ansible_collections.xprotect.go.plugins.module_utils._specs import SERVICE_NAMES_VARIABLE
from ansible_collections.xprotect.go.plugins.module_utils._windows import HostServices, ServiceStatus
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient
from ansible_collections.xprotect.go.plugins.plugin_utils._heal_guard import DEFERRED, GIVING_UP, HEAL, HealGuard

logger = logging.getLogger('xprotect.go.service_status')

EVENT_KEY = 'xprotect_go'
RECORDING_SERVER = 'recording_server'

# Event types (the source plugin's EVENTS documents each one's fields).
SERVICE_STATE = 'service_state'
HOST_UNREACHABLE = 'host_unreachable'
HOST_REACHABLE = 'host_reachable'

# The arguments that ansible-rulebook itself may add.
_ENGINE_ARGUMENTS = ('eda_feedback_queue',)

# Inventory variables read besides the connection's: the same names the playbooks use.
MAX_PER_HOUR_VARIABLE = 'xprotect_go_heal_max_per_hour'
HEAL_TIMEOUT_VARIABLE = 'xprotect_go_heal_timeout'
MAX_DOWN_VARIABLE = 'rolling_restart_max_recording_servers_down'
INTERVAL_VARIABLE = 'xprotect_go_watch_interval'


class WatchError(Exception):
    """Arguments or inventory that cannot work; the message names the argument or the host and variable."""


# The arguments: type, default, range, and where an unset one comes from besides its default
# (an environment variable, or an inventory variable of the watched hosts). The plugin's
# DOCUMENTATION and schemas/service_status.json describe the same (a unit test compares).
ARGUMENTS: t.Dict[str, dict] = {
    'inventory': {'type': 'list', 'env': 'ANSIBLE_INVENTORY'},
    'pattern': {'type': 'str', 'default': 'xprotect'},
    'hosts': {'type': 'list'},
    'vault_password_file': {'type': 'list', 'env': 'ANSIBLE_VAULT_PASSWORD_FILE'},
    'service_names': {'type': 'dict'},
    'interval': {'type': 'float', 'default': 10.0, 'min': 0.1, 'max': 3600, 'variable': INTERVAL_VARIABLE},
    'concurrency': {'type': 'int', 'default': 16, 'min': 1, 'max': 256},
    'max_backoff': {'type': 'float', 'default': 300.0, 'min': 0.1, 'max': 86400},
    'heal': {'type': 'bool', 'default': True},
    'max_heals_per_hour': {'type': 'int', 'default': 3, 'min': 0, 'max': 1000, 'variable': MAX_PER_HOUR_VARIABLE},
    'max_concurrent_heals': {'type': 'int', 'default': 1, 'min': 1, 'max': 10000, 'variable': MAX_DOWN_VARIABLE},
    'heal_timeout': {'type': 'float', 'default': 180.0, 'min': 1, 'max': 86400, 'variable': HEAL_TIMEOUT_VARIABLE},
    # Unset everywhere, it is $XPROTECT_GO_MAINTENANCE_DIR or the default (maintenance.directory_path).
    'maintenance_dir': {'type': 'str', 'default': None, 'variable': maintenance.DIRECTORY_VARIABLE},
    'shutdown_after': {'type': 'float', 'default': 0.0, 'min': 0, 'max': 86400},
}
# The connection options of the modules (all but host, which each watched host has), as arguments.
CONNECTION_ARGUMENTS = tuple(option.name for option in CONNECTION_OPTIONS if option.name != 'host')
for _name in CONNECTION_ARGUMENTS:
    ARGUMENTS[_name] = {'type': {'path': 'str'}.get(OPTIONS[_name].type, OPTIONS[_name].type), 'connection': True}
    if OPTIONS[_name].choices:
        ARGUMENTS[_name]['choices'] = list(OPTIONS[_name].choices)
# Argument names the guardrails take from the inventory when unset.
INVENTORY_SETTINGS = {spec['variable']: name for name, spec in ARGUMENTS.items() if 'variable' in spec}

_TRUE = ('1', 'true', 'yes', 'on')
_FALSE = ('0', 'false', 'no', 'off')


def _convert(name: str, value: t.Any, where: str) -> t.Any:
    """value (as templated by ansible-rulebook: numbers may be text) in the argument's type."""
    spec = ARGUMENTS[name]
    kind = spec['type']
    try:
        if kind == 'bool':
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in _TRUE + _FALSE:
                return str(value).strip().lower() in _TRUE
            raise ValueError
        if kind in ('int', 'float'):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number) or (kind == 'int' and number != int(number)):
                raise ValueError
            number = int(number) if kind == 'int' else number
            if 'min' in spec and not spec['min'] <= number <= spec['max']:
                raise WatchError('%s from %s must be between %s and %s, got %s' % (name, where, spec['min'], spec['max'], value))
            return number
        if kind == 'list':
            items = value.split(',') if isinstance(value, str) else list(value)
            items = [str(item).strip() for item in items if str(item).strip()]
            if not items:
                raise ValueError
            return items
        if kind == 'dict':
            if not isinstance(value, dict):
                raise ValueError
            return {str(key): str(item) for key, item in value.items()}
        if isinstance(value, (dict, list, tuple)):
            raise ValueError
        value = str(value)
        if spec.get('choices') and value not in spec['choices']:
            raise WatchError('%s from %s must be one of %s, got %r' % (name, where, ', '.join(spec['choices']), value))
        return value
    except (TypeError, ValueError):
        shown = '(hidden)' if name == 'password' else repr(value)
        raise WatchError('%s from %s must be %s, got %s' % (name, where, _a(kind), shown)) from None


def _a(kind: str) -> str:
    return {'int': 'a whole number', 'float': 'a number', 'bool': 'true or false', 'list': 'a list or comma-separated text',
            'dict': 'a mapping', 'str': 'text'}[kind]


class WatchSettings:
    """The source's arguments, converted and checked. Unset guardrails are None (the inventory may set them)."""

    def __init__(self, values: dict) -> None:
        self.values = values

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self.__dict__['values'][name]
        except KeyError:
            raise AttributeError(name) from None

    def connection_options(self) -> dict:
        """The connection arguments given, as task options for resolve_connection (unset ones None)."""
        return {name: self.values.get(name) for name in CONNECTION_ARGUMENTS}


def parse_arguments(args: t.Optional[dict], environ: t.Optional[t.Mapping[str, str]] = None) -> WatchSettings:
    """Every argument converted and checked, unknown ones refused; environment variables fill unset ones."""
    environ = os.environ if environ is None else environ
    args = {key: value for key, value in (args or {}).items() if key not in _ENGINE_ARGUMENTS}
    unknown = sorted(set(args) - set(ARGUMENTS))
    if unknown:
        hints = ['%s (did you mean %s?)' % (name, near[0]) if (near := difflib.get_close_matches(name, ARGUMENTS, 1)) else name
                 for name in unknown]
        raise WatchError('unknown argument(s) %s; the arguments are %s' % (', '.join(hints), ', '.join(sorted(ARGUMENTS))))
    values = {}
    for name, spec in ARGUMENTS.items():
        value, where = args.get(name), 'the argument %s' % name
        if value in (None, '') and spec.get('env') and environ.get(spec['env']):
            value, where = environ[spec['env']], 'environment variable %s' % spec['env']
        if value in (None, ''):
            # Guardrails may come from the inventory: None until load_targets() has looked there.
            values[name] = None if ('variable' in spec or spec.get('connection')) else spec.get('default')
            continue
        values[name] = _convert(name, value, where)
    if values['hosts'] is None and values['inventory'] is None:
        raise WatchError('no hosts to watch: give the inventory argument (or set ANSIBLE_INVENTORY, as for ansible-playbook), '
                         'or list the hosts in the hosts argument')
    if values['service_names'] is not None:
        _validate_service_names(values['service_names'], 'the argument service_names')
    return WatchSettings(values)


def _validate_service_names(names: t.Any, where: str) -> None:
    if not isinstance(names, dict):
        raise WatchError('%s must be a mapping of service keys to Windows service names' % where)
    try:
        validate_service_names(names)
    except XProtectError as error:
        raise WatchError('%s: %s' % (where, error.message)) from None


class Target:
    """One host to watch: its name (the inventory's), connection settings, service names and guardrails."""

    def __init__(self, name: str, settings: t.Any, service_names: t.Optional[dict] = None, max_per_hour: int = 3,
                 heal_timeout: float = 180.0) -> None:
        self.name = name
        self.settings = settings
        self.service_names = service_names or {}
        self.max_per_hour = max_per_hour
        self.heal_timeout = heal_timeout

    def __repr__(self) -> str:
        return 'Target(%s, %r)' % (self.name, self.settings)


def _resolve(name: str, options: dict, host_settings: dict, environ: t.Mapping[str, str]) -> t.Any:
    try:
        return resolve_connection(options, host_settings, environ)
    except XProtectError as error:
        # The message names the setting and where it came from, never the password (resolve_connection scrubs).
        raise WatchError('host %s: %s' % (name, error.message)) from None


def _setting(settings: WatchSettings, name: str, variables: dict, host: str) -> t.Any:
    """A guardrail: the argument, else the host's inventory variable, else the default."""
    value = settings.values.get(name)
    if value is not None:
        return value
    variable = ARGUMENTS[name]['variable']
    if variables.get(variable) not in (None, ''):
        return _convert(name, variables[variable], 'host %s inventory variable %s' % (host, variable))
    return ARGUMENTS[name]['default']


def load_targets(settings: WatchSettings, environ: t.Optional[t.Mapping[str, str]] = None) -> t.List[Target]:
    """The hosts to watch, each with settings resolved as the modules resolve theirs. Fills in the fleet-wide guardrails."""
    environ = os.environ if environ is None else environ
    options = settings.connection_options()
    hosts: t.List[tuple]
    if settings.hosts is not None:
        hosts, named_by = [(name, {}) for name in settings.hosts], 'the hosts argument'
    else:
        hosts = read_inventory(settings.inventory, settings.pattern, settings.vault_password_file)
        named_by = 'the inventory host name'
    fleet_wide: t.Dict[str, t.List[t.Any]]
    targets, fleet_wide, directories = [], {'max_concurrent_heals': [], 'interval': []}, set()
    for name, variables in hosts:
        host_settings = host_settings_from_vars(variables)
        if not host_settings.get('host'):
            # As Ansible does: without ansible_host, the inventory name is the address.
            host_settings.set(OPTIONS['host'], name, named_by)
        service_names = variables.get(SERVICE_NAMES_VARIABLE) or settings.service_names
        if variables.get(SERVICE_NAMES_VARIABLE):
            _validate_service_names(service_names, 'host %s inventory variable %s' % (name, SERVICE_NAMES_VARIABLE))
        targets.append(Target(name, _resolve(name, options, host_settings, environ), service_names,
                              _setting(settings, 'max_heals_per_hour', variables, name),
                              _setting(settings, 'heal_timeout', variables, name)))
        for setting, found in fleet_wide.items():
            found.append(_setting(settings, setting, variables, name))
        directories.add(maintenance.directory_path(_setting(settings, 'maintenance_dir', variables, name)))
    if len(directories) > 1:
        raise WatchError('the watched hosts name different maintenance directories (%s): %s must be one directory for the fleet'
                         % (', '.join(sorted(directories)), maintenance.DIRECTORY_VARIABLE))
    # Fleet-wide settings: the strictest of any host, so that no host's limit is exceeded (or its interval).
    for setting, found in fleet_wide.items():
        settings.values[setting] = min(found)
    settings.values['maintenance_dir'] = directories.pop()
    return targets


# Inventory variables the source reads: the connection's, the service names and the guardrails.
_VARIABLES = frozenset(INVENTORY_VARIABLE_NAMES | {SERVICE_NAMES_VARIABLE} | set(INVENTORY_SETTINGS))


def read_inventory(sources: t.List[str], pattern: str, vault_password_files: t.Optional[t.List[str]]) -> t.List[tuple]:
    """[(host name, {variable: value})] of the hosts matching pattern, with ansible-core's own inventory code.

    Groups, group_vars/host_vars beside the inventory, inventory plugins and vaulted values work as
    for ansible-playbook. Only the variables the source needs are templated (a password may be
    "{{ vault_xprotect_password }}"), and turned into plain Python values.
    """
    try:
        from ansible.errors import AnsibleError
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        from ansible.template import Templar
        from ansible.vars.manager import VariableManager
    except ImportError as error:
        raise WatchError('reading an inventory needs ansible-core installed beside ansible-rulebook (%s); or list the hosts '
                         'in the hosts argument' % error) from None
    missing = [source for source in sources if ',' not in source and not os.path.exists(source)]
    if missing:
        raise WatchError('inventory %s: no such file or directory' % ', '.join(missing))
    loader = DataLoader()
    try:
        secrets = _vault_secrets(loader, vault_password_files)
        loader.set_vault_secrets(secrets)
        _activate_vault_secrets(secrets)
        inventory = InventoryManager(loader=loader, sources=sources)
        variable_manager = VariableManager(loader=loader, inventory=inventory)
        hosts = inventory.get_hosts(pattern)
    except AnsibleError as error:
        raise WatchError('inventory %s: %s' % (', '.join(sources), error.message)) from None
    if not hosts:
        raise WatchError('no host of inventory %s matches %r: set the pattern argument to the group of XProtect hosts'
                         % (', '.join(sources), pattern))
    found = []
    for host in hosts:
        variables = variable_manager.get_vars(host=host, include_hostvars=False)
        templar = Templar(loader=loader, variables=variables)
        wanted = {}
        for name in _VARIABLES.intersection(variables):
            try:
                wanted[name] = _plain(templar.template(variables[name]))
            except AnsibleError as error:
                # The message of a failed template names the expression, not a secret's value.
                raise WatchError('host %s: variable %s: %s' % (host.name, name, error.message)) from None
        found.append((host.name, wanted))
    return found


def _vault_secrets(loader: t.Any, files: t.Optional[t.List[str]]) -> list:
    """Vault secrets from the vault_password_file argument / ANSIBLE_VAULT_PASSWORD_FILE, and ANSIBLE_VAULT_IDENTITY_LIST."""
    from ansible import constants as C
    from ansible.parsing.vault import get_file_vault_secret
    identities = [('default', path) for path in files or []]
    for item in C.DEFAULT_VAULT_IDENTITY_LIST or []:
        label, _sep, path = item.rpartition('@')
        if path and path != 'prompt':
            identities.append((label or 'default', path))
    secrets = []
    for label, path in identities:
        secret = get_file_vault_secret(filename=os.path.expanduser(path), vault_id=label, loader=loader)
        secret.load()
        secrets.append((label, secret))
    return secrets


def _activate_vault_secrets(secrets: list) -> None:
    """ansible-core 2.19 decrypts vaulted values with the process-wide VaultSecretsContext, as its CLI sets it up.

    It may be initialized once per process: later calls (another watch in the same process) add their secrets.
    Older ansible-core decrypts with the loader's secrets alone.
    """
    try:
        from ansible.parsing.vault import VaultSecretsContext
    except ImportError:
        return
    current = VaultSecretsContext.current(optional=True)
    if current is None:
        VaultSecretsContext.initialize(VaultSecretsContext(list(secrets)))
    else:
        current.secrets.extend(secret for secret in secrets if secret not in current.secrets)


def _plain(value: t.Any) -> t.Any:
    """A templated value as plain Python (no Ansible tags; vaulted text decrypted, as str() does)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if value is None:
        return None
    return str(value)


def host_verdict(statuses: t.Optional[dict]) -> t.Optional[str]:
    """The host's health verdict (recording, degraded, not_recording) for the events' optional ``verdict`` field.

    The collection does not compute verdicts yet (the health rules are a separate capability): until it
    does, this returns None and every event carries ``verdict: null``. Rules read ``event.xprotect_go.verdict``
    only where it is not null.
    """
    del statuses
    return None


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def event(kind: str, host: str, fields: dict) -> dict:
    """One event: our fields under EVENT_KEY, and meta.hosts so that run_playbook limits itself to the host."""
    body = {'type': kind, 'host': host, 'time': _utc_now()}
    body.update(fields)
    return {EVENT_KEY: body, 'meta': {'hosts': host}}


class Reading:
    """What one read of a host found: the maintenance switches, and the services or the error."""

    __slots__ = ('maintenance', 'statuses', 'error', 'seconds')

    def __init__(self, maintenance_on: bool, statuses: t.Optional[dict] = None, error: t.Optional[XProtectError] = None,
                 seconds: float = 0.0) -> None:
        self.maintenance = maintenance_on
        self.statuses = statuses
        self.error = error
        self.seconds = seconds


class HostWatch:
    """One host: reads it (in a worker thread), remembers what it saw, and turns differences into events."""

    def __init__(self, target: Target, maintenance_dir: str, client_factory: t.Callable[[t.Any], t.Any] = WsmanClient) -> None:
        self.target = target
        self.name = target.name
        self.maintenance_dir = maintenance_dir
        self._client_factory = client_factory
        self._services: t.Optional[HostServices] = None
        self._names: t.Optional[dict] = None        # catalog key -> Windows name, after a discovery
        self.known: t.Dict[str, dict] = {}          # catalog key -> the last facts seen
        self.reachable: t.Optional[bool] = None     # None until the first read
        self.failures = 0
        self.down_since: t.Optional[float] = None
        self.reads = 0                              # reads of the host, answered or not
        self.round_trips = 0                        # WS-Management requests those reads sent

    # -- in a worker thread ------------------------------------------------------------------------

    def read(self) -> Reading:
        """Blocking: the services in one round trip, then the maintenance switches. Never raises for the host's faults.

        The switches are read after the services, so that they are at least as new as the state: the stop
        playbook turns a host's switch on before it stops anything, so a stop it made is never seen without it.
        """
        started = time.monotonic()
        self.reads += 1
        statuses, failure = None, None
        try:
            statuses = self._read_services()
        except XProtectError as error:
            self._services = None       # a new client (and handshake) after any failure
            failure = error
        except Exception as error:  # pylint: disable=broad-exception-caught
            # A bug must not end the watch of the whole fleet: report it as this host's failure.
            self._services = None
            text = errors.scrub('%s: %s' % (type(error).__name__, error), self.target.settings.password,
                                self.target.settings.username)
            failure = XProtectError(text, host=self.name, kind=errors.ERROR)
        try:
            switched = maintenance.read(self.maintenance_dir, self.name)['active']
        except maintenance.MaintenanceError as error:
            # Cannot tell: act as if it were on, so that nothing is started behind an operator's back.
            logger.warning('%s: %s; treating the host as under maintenance', self.name, error)
            switched = True
        return Reading(switched, statuses=statuses, error=failure, seconds=time.monotonic() - started)

    def _read_services(self) -> dict:
        """{catalog key: ServiceStatus or None when it is gone}; a discovery the first time, then a query by name."""
        if self._services is None:
            client = self._client_factory(self.target.settings)
            self._services = HostServices(client, self.target.settings.host)
        client = self._services.client
        before = client.round_trips
        try:
            if not self._names:
                records = self._services.discover(self.target.service_names)
                matched = catalog.match_services(records, self.target.service_names)
                self._names = {key: record['Name'] for key, record in matched.items()}
                return {key: ServiceStatus(record) for key, record in matched.items()}
            found = self._services.poll(sorted(self._names.values()))
            statuses = {key: found.get(name.lower()) for key, name in self._names.items()}
            if None in statuses.values():
                self._names = None      # a service went away: discover again next time
            return statuses
        finally:
            self.round_trips += client.round_trips - before

    # -- on the event loop -------------------------------------------------------------------------

    def observe(self, statuses: dict, maintenance_on: bool, now: float) -> t.List[dict]:
        """Events for a successful read: the host back, the initial state of each service, then every change."""
        events = []
        verdict = host_verdict(statuses)
        if self.reachable is False:
            events.append(event(HOST_REACHABLE, self.name, {
                'down_for': round(now - self.down_since, 1) if self.down_since is not None else None,
                'maintenance': maintenance_on, 'verdict': verdict}))
        initial = self.reachable is None
        self.reachable, self.failures, self.down_since = True, 0, None
        for key in catalog.SERVICE_KEYS:
            status, previous = statuses.get(key), self.known.get(key)
            if status is None and previous is None:
                continue        # not installed, and not before either
            facts = _facts(status)
            if not initial and previous is not None and (facts['state'], facts['process_id']) == (previous['state'], previous['process_id']):
                continue
            if status is None:
                del self.known[key]
            else:
                self.known[key] = facts
            before: t.Dict[str, t.Any]
            if initial:
                before = {'previous_state': None, 'previous_process_id': None}
            elif previous is None:
                before = {'previous_state': 'absent', 'previous_process_id': None}
            else:
                before = {'previous_state': previous['state'], 'previous_process_id': previous['process_id']}
            events.append(event(SERVICE_STATE, self.name, dict(facts, service=key, initial=initial, maintenance=maintenance_on,
                                                               verdict=verdict, **before)))
        return events

    def fail(self, error: XProtectError, maintenance_on: bool, now: float, interval: float, max_backoff: float) -> t.List[dict]:
        """The event for a host that stopped answering (once, until it answers again); counts the failure."""
        self.failures += 1
        if self.reachable is False:
            return []
        self.reachable, self.down_since = False, now
        message = errors.scrub(str(error), self.target.settings.password, self.target.settings.username)
        return [event(HOST_UNREACHABLE, self.name, {
            'kind': error.kind, 'message': message, 'retry_in': round(self.retry_in(interval, max_backoff), 1),
            'maintenance': maintenance_on, 'verdict': None})]

    def retry_in(self, interval: float, max_backoff: float) -> float:
        """Seconds until the next read: the interval, doubled for every failure in a row, at most max_backoff."""
        if not self.failures:
            return interval
        return min(max_backoff, interval * 2 ** min(self.failures - 1, 30))

    def recording_state(self) -> t.Optional[str]:
        """The Recording Server's state for the guard: None when it is not installed, 'disabled' when its start
        mode is Disabled (someone disabled it on purpose, and no start would work: it is never healed)."""
        facts = self.known.get(RECORDING_SERVER)
        if not facts:
            return None
        return 'disabled' if facts['start_mode'] == 'disabled' else facts['state']


def _facts(status: t.Optional[ServiceStatus]) -> dict:
    """What an event tells of a service; state 'absent' for one that is no longer installed."""
    if status is None:
        return {'name': None, 'state': 'absent', 'windows_state': None, 'exit_code': None, 'process_id': None, 'start_mode': None}
    return {'name': status.name, 'state': status.state, 'windows_state': status.windows_state, 'exit_code': status.exit_code,
            'process_id': status.process_id, 'start_mode': status.start_mode}


def decision_event(host: HostWatch, decision: t.Any, maintenance_on: bool) -> dict:
    """The event of a guard decision (heal, deferred, giving_up) about the host's Recording Server."""
    facts = host.known.get(RECORDING_SERVER) or {}
    fields = {'service': RECORDING_SERVER, 'name': facts.get('name'), 'state': facts.get('state'),
              'exit_code': facts.get('exit_code'), 'maintenance': maintenance_on, 'verdict': None}
    fields.update(decision.details)
    if decision.kind == GIVING_UP:
        fields['message'] = ('the Recording Server of %s stopped again after %d heal(s) within the last hour (limit %d): it is not '
                             'started again until it is seen running or the host goes through maintenance'
                             % (host.name, decision.details['attempts'], decision.details['max_per_hour']))
    elif decision.kind == DEFERRED:
        fields['message'] = ('the Recording Server of %s waits to be started: %d host(s) are being healed, the limit is %d'
                             % (host.name, decision.details['healing'], decision.details['max_concurrent']))
    return event(decision.kind, host.name, fields)


class Pools:
    """The worker threads of the reads: concurrency for the hosts that answer, a quarter of it for those that do not."""

    def __init__(self, concurrency: int, hosts: int) -> None:
        self.answering = concurrent.futures.ThreadPoolExecutor(max_workers=min(concurrency, hosts), thread_name_prefix='xpgo-watch')
        self.away = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(concurrency // 4, hosts)),
                                                          thread_name_prefix='xpgo-watch-away')

    def for_host(self, host: HostWatch) -> concurrent.futures.Executor:
        return self.away if host.reachable is False else self.answering

    def shutdown(self) -> None:
        for pool in (self.answering, self.away):
            pool.shutdown(wait=False, cancel_futures=True)


class FleetWatch:
    """The whole watch: one asyncio task per host, reads in a bounded thread pool, one guard for the fleet."""

    def __init__(self, settings: WatchSettings, targets: t.List[Target],
                 client_factory: t.Callable[[t.Any], t.Any] = WsmanClient, clock: t.Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.hosts = [HostWatch(target, settings.maintenance_dir, client_factory) for target in targets]
        self.guard = HealGuard(settings.max_concurrent_heals)
        self.clock = clock

    async def run(self, queue: t.Any) -> None:
        """Watch until cancelled, or for shutdown_after seconds when that is set (then return: the rulebook ends)."""
        settings = self.settings
        logger.info('watching %d host(s) every %s s, %d at a time; heals: %s, at most %s at once; maintenance switches in %s',
                    len(self.hosts), settings.interval, settings.concurrency, 'on' if settings.heal else 'off',
                    settings.max_concurrent_heals, settings.maintenance_dir)
        # Two bounded pools: hosts that answer, and hosts that do not (they wait for their timeouts). A site going
        # dark then holds only the second pool, and the reads of the hosts that answer keep their interval.
        pools = Pools(settings.concurrency, len(self.hosts))
        # Spread the first reads over one interval, so that the reads of a large fleet do not come in bursts.
        spread = settings.interval / len(self.hosts)
        tasks = [asyncio.create_task(self._watch(host, queue, pools, index * spread), name='xpgo-watch-%s' % host.name)
                 for index, host in enumerate(self.hosts)]
        try:
            if settings.shutdown_after:
                done, dummy = await asyncio.wait(tasks, timeout=settings.shutdown_after, return_when=asyncio.FIRST_EXCEPTION)
            else:
                done, dummy = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()       # a task ends early only by an exception: raise it
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Reads in progress finish within their own timeouts; nothing waits for them here.
            pools.shutdown()
        logger.info('watch ended after shutdown_after=%s s', settings.shutdown_after)

    async def _watch(self, host: HostWatch, queue: t.Any, pools: 'Pools', delay: float) -> None:
        loop = asyncio.get_running_loop()
        settings = self.settings
        await asyncio.sleep(delay)
        while True:
            started = self.clock()
            reading = await loop.run_in_executor(pools.for_host(host), host.read)
            for item in self.events(host, reading, self.clock()):
                await queue.put(item)
            wait = host.retry_in(settings.interval, settings.max_backoff)
            await asyncio.sleep(max(0.0, wait - (self.clock() - started)))

    def events(self, host: HostWatch, reading: Reading, now: float) -> t.List[dict]:
        """Every event one reading of a host gives, the guard's decision last."""
        settings = self.settings
        if reading.error is not None:
            events = host.fail(reading.error, reading.maintenance, now, settings.interval, settings.max_backoff)
            if host.failures == 1:
                logger.warning('%s stopped answering (%s); retrying with back-off up to %s s', host.name, reading.error.kind,
                               settings.max_backoff)
            state = None
        else:
            if host.reachable is False:
                logger.info('%s answers again', host.name)
            events = host.observe(t.cast(dict, reading.statuses), reading.maintenance, now)
            state = host.recording_state()
        if settings.heal:
            decision = self.guard.consider(host.name, state, reading.maintenance, host.target.max_per_hour,
                                           host.target.heal_timeout, now)
            if decision is not None:
                level = logging.INFO if decision.kind == HEAL else logging.WARNING
                logger.log(level, '%s: %s of the Recording Server, %s', host.name, decision.kind, decision.details)
                events.append(decision_event(host, decision, reading.maintenance))
        return events
