# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which hosts the event source xprotect.go.service_status watches, and how: its arguments and the fleet's inventory.

Private to the collection: its interface may change without notice.

  parse_arguments(args, environ) -> WatchSettings   every argument checked before anything is read
  load_targets(settings, environ) -> [Target]        hosts from an inventory (ansible-core) or the arguments

ansible-core is imported only to read an inventory.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _maintenance as maintenance
from ansible_collections.xprotect.go.plugins.module_utils._connection import resolve_connection
from ansible_collections.xprotect.go.plugins.module_utils._connection_options import (
    CONNECTION_OPTIONS,
    INVENTORY_VARIABLE_NAMES,
    OPTIONS,
    host_settings_from_vars,
)
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._plan import validate_service_names
from ansible_collections.xprotect.go.plugins.module_utils._specs import SERVICE_NAMES_VARIABLE

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
    return {
        'int': 'a whole number',
        'float': 'a number',
        'bool': 'true or false',
        'list': 'a list or comma-separated text',
        'dict': 'a mapping',
        'str': 'text',
    }[kind]


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
        hints = [
            '%s (did you mean %s?)' % (name, near[0]) if (near := difflib.get_close_matches(name, ARGUMENTS, 1)) else name
            for name in unknown
        ]
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
        raise WatchError(
            'no hosts to watch: give the inventory argument (or set ANSIBLE_INVENTORY, as for ansible-playbook), '
            'or list the hosts in the hosts argument'
        )
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

    def __init__(
        self, name: str, settings: t.Any, service_names: t.Optional[dict] = None, max_per_hour: int = 3, heal_timeout: float = 180.0
    ) -> None:
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
        targets.append(
            Target(
                name,
                _resolve(name, options, host_settings, environ),
                service_names,
                _setting(settings, 'max_heals_per_hour', variables, name),
                _setting(settings, 'heal_timeout', variables, name),
            )
        )
        for setting, found in fleet_wide.items():
            found.append(_setting(settings, setting, variables, name))
        directories.add(maintenance.directory_path(_setting(settings, 'maintenance_dir', variables, name)))
    if len(directories) > 1:
        raise WatchError(
            'the watched hosts name different maintenance directories (%s): %s must be one directory for the fleet'
            % (', '.join(sorted(directories)), maintenance.DIRECTORY_VARIABLE)
        )
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
        raise WatchError(
            'reading an inventory needs ansible-core installed beside ansible-rulebook (%s); or list the hosts '
            'in the hosts argument' % error
        ) from None
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
        raise WatchError(
            'no host of inventory %s matches %r: set the pattern argument to the group of XProtect hosts' % (', '.join(sources), pattern)
        )
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
