# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options, written once: one row per option.

This is private to the collection: its interface may change without notice.
A row holds the option's type, default and range, its environment variable, the inventory
variables of winrm and psrp hosts and the connection plugins' options that feed it. The argument
spec (CONNECTION_SPEC), the environment fallback and the defaults (_connection.resolve_connection),
the inventory mapping (host_settings_from_vars) and the action plugin's reading of the connection
plugin (host_settings_from_plugin) all derive from CONNECTION_OPTIONS; a unit test holds the doc
fragment xprotect.go._connection against it.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

ENV_PREFIX = 'XPROTECT_GO_'
WINDOWS_CONNECTIONS = ('winrm', 'psrp')
# Port and scheme default to each other the way the winrm connection plugin does.
HTTP_PORT = 5985
HTTPS_PORT = 5986

# Variables every connection plugin reads; a hint names one of these rather than a plugin's own spelling.
_SHARED_VARIABLES = ('ansible_host', 'ansible_port', 'ansible_user', 'ansible_password')
# ansible_winrm_transport / ansible_psrp_auth values and what our client calls them.
_TRANSPORT_ALIASES = {'negotiate': 'ntlm', 'ssl': 'basic', 'plaintext': 'basic', 'cert': 'certificate'}
_TRUE = ('1', 'true', 'yes', 'on', 'validate')
_FALSE = ('0', 'false', 'no', 'off', 'ignore')


def invalid(message: str) -> XProtectError:
    """A connection setting has a value that cannot work; the message names the setting."""
    return XProtectError(message, kind=errors.INVALID)


def _normalise_transport(value: t.Any) -> t.Optional[str]:
    """The first transport of a list or 'a,b' text (the winrm plugin's transport is a list), in our words."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).split(',', maxsplit=1)[0].strip().lower()
    return _TRANSPORT_ALIASES.get(value, value)


@dataclass(frozen=True)
class ConnectionOption:
    """One connection option and every place its value may come from.

    winrm_vars/psrp_vars: the inventory variables of winrm/psrp hosts, the first one set wins
    (the connection plugins' order: their last listed variable wins).
    winrm_option/psrp_option: the connection plugin's option that holds the same setting, if any.
    On winrm hosts an ansible_winrm_* variable the plugin does not declare reaches us through its
    `_extras` and wins over winrm_option, as it comes first in winrm_vars.
    """

    name: str
    type: str
    winrm_vars: t.Tuple[str, ...]
    psrp_vars: t.Tuple[str, ...]
    winrm_option: t.Optional[str] = None
    psrp_option: t.Optional[str] = None
    default: t.Any = None
    choices: t.Tuple[str, ...] = ()
    minimum: t.Optional[int] = None
    maximum: t.Optional[int] = None
    unit: str = ''
    no_log: t.Optional[bool] = None
    aliases: t.Tuple[str, ...] = ()
    normalise: t.Optional[t.Callable[[t.Any], t.Any]] = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    def spec(self) -> dict:
        """The argument spec entry: no default and no env fallback, so that an unset option is None
        and resolve_connection() applies the one precedence order."""
        spec: t.Dict[str, t.Any] = {'type': self.type}
        if self.choices:
            spec['choices'] = list(self.choices)
        if self.aliases:
            spec['aliases'] = list(self.aliases)
        if self.no_log is not None:
            spec['no_log'] = self.no_log
        return spec

    def variables(self, connection: t.Optional[str]) -> t.Tuple[str, ...]:
        """The inventory variables of a host on this connection ('winrm' or 'psrp'), the first set wins."""
        return {'winrm': self.winrm_vars, 'psrp': self.psrp_vars}.get(t.cast(str, connection), ())

    def plugin_option(self, connection: t.Optional[str]) -> t.Optional[str]:
        return {'winrm': self.winrm_option, 'psrp': self.psrp_option}.get(t.cast(str, connection))

    def hint_variable(self, connection: t.Optional[str]) -> t.Optional[str]:
        """The inventory variable a message tells users of this connection to set."""
        names = self.variables(connection)
        return next((name for name in names if name in _SHARED_VARIABLES), names[0] if names else None)

    def convert(self, value: t.Any, source: str) -> t.Any:
        """value (text from the environment or the inventory, or a task option) in this option's type."""
        if self.normalise is not None:
            value = self.normalise(value)
        if self.type == 'bool':
            return _to_bool(self.name, value, source)
        if self.type == 'int':
            if isinstance(value, bool):
                raise invalid('%s from %s must be an integer, got %r' % (self.name, source, value))
            try:
                return int(value)
            except (TypeError, ValueError):
                raise invalid('%s from %s must be an integer, got %r' % (self.name, source, value)) from None
        return str(value)

    def check_range(self, value: t.Any, source: str) -> None:
        if self.minimum is not None and not self.minimum <= value <= self.maximum:
            raise invalid(
                '%s must be between %s and %s%s, got %s (from %s)'
                % (self.name, self.minimum, self.maximum, ' ' + self.unit if self.unit else '', value, source)
            )


def _to_bool(name: str, value: t.Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid('%s from %s must be a boolean, got %r' % (name, source, value))


_TIMEOUT: t.Dict[str, t.Any] = {'type': 'int', 'minimum': 1, 'maximum': 3600, 'unit': 'seconds'}

# The table. Order is the order of the argument spec and of resolve_connection's checks.
CONNECTION_OPTIONS = (
    ConnectionOption(
        'host',
        'str',
        ('ansible_winrm_host', 'ansible_host'),
        ('ansible_psrp_host', 'ansible_host'),
        winrm_option='remote_addr',
        psrp_option='remote_addr',
    ),
    ConnectionOption(
        'port',
        'int',
        ('ansible_winrm_port', 'ansible_port'),
        ('ansible_psrp_port', 'ansible_port'),
        winrm_option='port',
        psrp_option='port',
        minimum=1,
        maximum=65535,
    ),
    ConnectionOption(
        'scheme',
        'str',
        ('ansible_winrm_scheme',),
        ('ansible_psrp_protocol',),
        winrm_option='scheme',
        psrp_option='protocol',
        choices=('http', 'https'),
    ),
    ConnectionOption(
        'path', 'str', ('ansible_winrm_path',), ('ansible_psrp_path',), winrm_option='path', psrp_option='path', default='/wsman'
    ),
    ConnectionOption(
        'username',
        'str',
        ('ansible_winrm_user', 'ansible_user'),
        ('ansible_psrp_user', 'ansible_user'),
        winrm_option='remote_user',
        psrp_option='remote_user',
        aliases=('user',),
    ),
    # The psrp plugin, too, reads the ansible_winrm_ spellings of the password.
    ConnectionOption(
        'password',
        'str',
        ('ansible_winrm_password', 'ansible_winrm_pass', 'ansible_password'),
        ('ansible_winrm_password', 'ansible_winrm_pass', 'ansible_password'),
        winrm_option='remote_password',
        psrp_option='remote_password',
        no_log=True,
    ),
    ConnectionOption(
        'transport',
        'str',
        ('ansible_winrm_transport',),
        ('ansible_psrp_auth',),
        winrm_option='transport',
        psrp_option='auth',
        default='ntlm',
        choices=('ntlm', 'kerberos', 'credssp', 'certificate', 'basic'),
        normalise=_normalise_transport,
    ),
    ConnectionOption(
        'validate_certs',
        'bool',
        ('ansible_winrm_server_cert_validation',),
        ('ansible_psrp_cert_validation',),
        psrp_option='cert_validation',
        default=True,
    ),
    ConnectionOption(
        'ca_trust_path',
        'path',
        ('ansible_winrm_ca_trust_path',),
        ('ansible_psrp_ca_cert', 'ansible_psrp_cert_trust_path'),
        psrp_option='ca_cert',
    ),
    ConnectionOption('client_cert', 'path', ('ansible_winrm_cert_pem',), ('ansible_psrp_certificate_pem',), psrp_option='certificate_pem'),
    ConnectionOption(
        'client_key',
        'path',
        ('ansible_winrm_cert_key_pem',),
        ('ansible_psrp_certificate_key_pem',),
        psrp_option='certificate_key_pem',
        no_log=False,
    ),
    ConnectionOption(
        'message_encryption',
        'str',
        ('ansible_winrm_message_encryption',),
        ('ansible_psrp_message_encryption',),
        psrp_option='message_encryption',
        default='auto',
        choices=('auto', 'always', 'never'),
    ),
    ConnectionOption(
        'connection_timeout',
        winrm_vars=('ansible_winrm_read_timeout_sec', 'ansible_winrm_connection_timeout'),
        psrp_vars=('ansible_psrp_read_timeout', 'ansible_psrp_connection_timeout'),
        winrm_option='connection_timeout',
        psrp_option='read_timeout',
        default=30,
        **_TIMEOUT,
    ),
    ConnectionOption(
        'operation_timeout',
        winrm_vars=('ansible_winrm_operation_timeout_sec',),
        psrp_vars=('ansible_psrp_operation_timeout',),
        psrp_option='operation_timeout',
        default=20,
        **_TIMEOUT,
    ),
)

OPTIONS = {option.name: option for option in CONNECTION_OPTIONS}

# The shared connection options of every module's argument spec (see ConnectionOption.spec()).
CONNECTION_SPEC = {option.name: option.spec() for option in CONNECTION_OPTIONS}

# The defaults, applied by resolve_connection() after every other source (port and scheme: see HTTP_PORT).
DEFAULTS = {option.name: option.default for option in CONNECTION_OPTIONS if option.default is not None}

# Every inventory variable that feeds an option, and the one that says which table column applies.
INVENTORY_VARIABLE_NAMES = frozenset(
    ['ansible_connection'] + [name for option in CONNECTION_OPTIONS for name in option.winrm_vars + option.psrp_vars]
)


def env_var(option: str) -> str:
    return OPTIONS[option].env


class HostSettings(dict):
    """An inventory host's connection settings in our option names, with where each one came from.

    connection: 'winrm' or 'psrp', the inventory host's connection (its hints name that plugin's variables).
    sources:    option -> where its value came from ('inventory variable ansible_host').
    """

    def __init__(self, values: t.Optional[dict] = None, connection: t.Optional[str] = None, sources: t.Optional[dict] = None) -> None:
        super().__init__(values or {})
        self.connection = connection
        self.sources = dict(sources or {})

    def set(self, option: ConnectionOption, value: t.Any, source: str) -> None:
        self[option.name] = option.convert(value, source)
        self.sources[option.name] = source


def _is_set(value: t.Any) -> bool:
    return value not in (None, '', [])


def _connection_of(variables: dict) -> t.Optional[str]:
    name = str(variables.get('ansible_connection')).rsplit('.', 1)[-1]
    return name if name in WINDOWS_CONNECTIONS else None


def host_settings_from_vars(variables: dict) -> HostSettings:
    """Connection settings from a Windows inventory host's variables (ansible_host, ansible_winrm_*, ansible_psrp_*).

    Returns only the settings the host defines; none unless ansible_connection is winrm or psrp.
    """
    connection = _connection_of(variables)
    settings = HostSettings(connection=connection)
    for option in CONNECTION_OPTIONS:
        name = next((name for name in option.variables(connection) if _is_set(variables.get(name))), None)
        if name is not None:
            settings.set(option, variables[name], 'inventory variable %s' % name)
    return settings


def host_settings_from_plugin(get_option: t.Callable[[str], t.Any], connection: str, variables: t.Optional[dict] = None) -> HostSettings:
    """Connection settings from the host's winrm or psrp connection plugin (get_option: the plugin's).

    Each option's plugin option per the table; on winrm hosts an ansible_winrm_* variable the plugin
    does not declare comes from its `_extras`. variables (the task's) only name where a value came from.
    """
    extras = (_plugin_value(get_option, '_extras') or {}) if connection == 'winrm' else {}
    variables = variables or {}
    settings = HostSettings(connection=connection)
    for option in CONNECTION_OPTIONS:
        name = next((name for name in option.variables(connection) if _is_set(extras.get(name))), None)
        if name is not None:
            settings.set(option, extras[name], 'inventory variable %s' % name)
            continue
        plugin_option = option.plugin_option(connection)
        value = _plugin_value(get_option, plugin_option) if plugin_option else None
        if _is_set(value):
            settings.set(option, value, _plugin_source(option, connection, plugin_option, variables))
    return settings


def _plugin_value(get_option: t.Callable[[str], t.Any], name: str) -> t.Any:
    try:
        return get_option(name)
    except KeyError:
        return None


def _plugin_source(option: ConnectionOption, connection: str, plugin_option: t.Optional[str], variables: dict) -> str:
    """Where the connection plugin's value came from, as far as the host's variables tell."""
    name = next((name for name in option.variables(connection) if _is_set(variables.get(name))), None)
    if name is not None:
        return 'inventory variable %s' % name
    if plugin_option == 'remote_addr':
        return 'the inventory host name'
    return "the %s connection's %s" % (connection, plugin_option)
