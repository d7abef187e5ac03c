# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection settings shared by every module and action plugin.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError


class ConnectionSettings:
    """Where and how to reach one Windows host's WinRM listener."""

    def __init__(self, host, port=5986, scheme='https', path='/wsman', username=None, password=None,
                 transport='ntlm', validate_certs=True, ca_trust_path=None, client_cert=None,
                 client_key=None, message_encryption='auto', connection_timeout=30, operation_timeout=20):
        self.host = host
        self.port = port
        self.scheme = scheme
        self.path = path
        self.username = username
        self.password = password
        self.transport = transport
        self.validate_certs = validate_certs
        self.ca_trust_path = ca_trust_path
        self.client_cert = client_cert
        self.client_key = client_key
        self.message_encryption = message_encryption
        self.connection_timeout = connection_timeout
        self.operation_timeout = operation_timeout

    @property
    def endpoint(self):
        host = '[%s]' % self.host if ':' in self.host else self.host
        return '%s://%s:%s%s' % (self.scheme, host, self.port, self.path)

    def __repr__(self):
        # Never show the password.
        return 'ConnectionSettings(%s, user=%r, transport=%s)' % (self.endpoint, self.username, self.transport)


# The shared connection options. No defaults and no env fallbacks here on purpose: an unset
# option is None, so resolve_connection() can apply the one precedence order
# (task options > the host's connection settings > environment variables > defaults).
CONNECTION_SPEC = {
    'host': {'type': 'str'},
    'port': {'type': 'int'},
    'scheme': {'type': 'str', 'choices': ['http', 'https']},
    'path': {'type': 'str'},
    'username': {'type': 'str', 'aliases': ['user']},
    'password': {'type': 'str', 'no_log': True},
    'transport': {'type': 'str', 'choices': ['ntlm', 'kerberos', 'credssp', 'certificate', 'basic']},
    'validate_certs': {'type': 'bool'},
    'ca_trust_path': {'type': 'path'},
    'client_cert': {'type': 'path'},
    'client_key': {'type': 'path', 'no_log': False},
    'message_encryption': {'type': 'str', 'choices': ['auto', 'always', 'never']},
    'connection_timeout': {'type': 'int'},
    'operation_timeout': {'type': 'int'},
}

ENV_PREFIX = 'XPROTECT_GO_'

DEFAULTS = {
    'path': '/wsman',
    'transport': 'ntlm',
    'validate_certs': True,
    'message_encryption': 'auto',
    'connection_timeout': 30,
    'operation_timeout': 20,
}

# Options that may come from the environment, and the type to convert the text to.
_ENV_TYPES = {
    'host': str, 'port': int, 'scheme': str, 'path': str, 'username': str, 'password': str, 'transport': str,
    'validate_certs': 'bool', 'ca_trust_path': str, 'client_cert': str, 'client_key': str,
    'message_encryption': str, 'connection_timeout': int, 'operation_timeout': int,
}

# ansible_winrm_transport / ansible_psrp_auth values and what our client calls them.
_TRANSPORT_ALIASES = {'negotiate': 'ntlm', 'ssl': 'basic', 'plaintext': 'basic', 'cert': 'certificate'}

_TRUE = ('1', 'true', 'yes', 'on', 'validate')
_FALSE = ('0', 'false', 'no', 'off', 'ignore')


def _invalid(message):
    """A connection option has a value that cannot work; the message names the option."""
    return XProtectError(message, kind=errors.INVALID)


def env_var(option):
    return ENV_PREFIX + option.upper()


def _to_bool(option, value, source):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _invalid('%s from %s must be a boolean, got %r' % (option, source, value))


def _convert(option, value, source):
    kind = _ENV_TYPES[option]
    if kind == 'bool':
        return _to_bool(option, value, source)
    if kind is int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _invalid('%s from %s must be an integer, got %r' % (option, source, value)) from None
    return str(value)


def _normalise_transport(value):
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).split(',', maxsplit=1)[0].strip().lower()
    return _TRANSPORT_ALIASES.get(value, value)


# Where each option comes from in a host's inventory: (winrm variables, psrp variables), the first set wins.
INVENTORY_VARIABLES = {
    'host': (('ansible_winrm_host', 'ansible_host'), ('ansible_psrp_server', 'ansible_host')),
    'port': (('ansible_winrm_port', 'ansible_port'), ('ansible_psrp_port', 'ansible_port')),
    'scheme': (('ansible_winrm_scheme',), ('ansible_psrp_protocol',)),
    'path': (('ansible_winrm_path',), ('ansible_psrp_path',)),
    'username': (('ansible_winrm_user', 'ansible_user'), ('ansible_psrp_user', 'ansible_user')),
    'password': (('ansible_winrm_password', 'ansible_winrm_pass', 'ansible_password'), ('ansible_psrp_password', 'ansible_password')),
    'transport': (('ansible_winrm_transport',), ('ansible_psrp_auth',)),
    'validate_certs': (('ansible_winrm_server_cert_validation',), ('ansible_psrp_cert_validation',)),
    'ca_trust_path': (('ansible_winrm_ca_trust_path',), ('ansible_psrp_ca_cert',)),
    'client_cert': (('ansible_winrm_cert_pem',), ('ansible_psrp_certificate_pem',)),
    'client_key': (('ansible_winrm_cert_key_pem',), ('ansible_psrp_certificate_key_pem',)),
    'message_encryption': (('ansible_winrm_message_encryption',), ('ansible_psrp_message_encryption',)),
    'connection_timeout': (('ansible_winrm_read_timeout_sec', 'ansible_winrm_connection_timeout'),
                           ('ansible_psrp_read_timeout', 'ansible_psrp_connection_timeout')),
    'operation_timeout': (('ansible_winrm_operation_timeout_sec',), ('ansible_psrp_operation_timeout',)),
}


def host_settings_from_vars(variables):
    """Connection settings from a host's inventory variables (ansible_host, ansible_winrm_*, ansible_psrp_*).

    Returns only the settings the host defines, in our option names.
    """
    psrp = str(variables.get('ansible_connection')).rsplit('.', 1)[-1] == 'psrp'
    settings = {}
    for option, sources in INVENTORY_VARIABLES.items():
        names = sources[1] if psrp else sources[0]
        value = next((variables[name] for name in names if variables.get(name) not in (None, '')), None)
        if value is None:
            continue
        if option == 'transport':
            value = _normalise_transport(value)
        elif option == 'validate_certs':
            value = _to_bool(names[0], value, 'inventory')
        settings[option] = value
    return settings


def resolve_connection(task_options, host_settings=None, environ=None):
    """The one place where connection precedence is decided.

    task_options:  the task's own options (None = not given).
    host_settings: the inventory host's connection settings (host_settings_from_vars or the
                   connection plugin's options), already in our option names.
    environ:       environment variables (XPROTECT_GO_<OPTION>).
    Each option takes the first value found in that order, then the default.
    """
    host_settings = host_settings or {}
    environ = environ or {}
    values = {}
    for option in CONNECTION_SPEC:
        value = task_options.get(option)
        source = 'the task option %s' % option
        if value is None:
            value = host_settings.get(option)
            source = 'the inventory'
        if value is None and environ.get(env_var(option)) not in (None, ''):
            value = environ[env_var(option)]
            source = 'environment variable %s' % env_var(option)
        if value is not None:
            value = _convert(option, value, source)
            if option == 'transport':
                value = _normalise_transport(value)
        values[option] = value

    # Port and scheme default to each other the way the winrm connection plugin does.
    if values['port'] is None:
        values['port'] = 5985 if values['scheme'] == 'http' else 5986
    if values['scheme'] is None:
        values['scheme'] = 'http' if values['port'] == 5985 else 'https'
    for option, default in DEFAULTS.items():
        if values[option] is None:
            values[option] = default
    # The psrp connection plugin's path has no leading slash ('wsman').
    if not values['path'].startswith('/'):
        values['path'] = '/' + values['path']

    _check(values)
    return ConnectionSettings(**values)


def _check(values):
    """Refuse settings that cannot work, naming the option to fix."""
    if not values['host']:
        raise _invalid(
            'no host to connect to: set the host option, the inventory host\'s ansible_host, or %s' % env_var('host'))
    if values['transport'] not in CONNECTION_SPEC['transport']['choices']:
        raise _invalid('transport %r is not supported; use one of %s'
                       % (values['transport'], ', '.join(CONNECTION_SPEC['transport']['choices'])))
    if values['scheme'] not in ('http', 'https'):
        raise _invalid('scheme must be http or https, got %r' % values['scheme'])
    if not 0 < values['port'] < 65536:
        raise _invalid('port must be between 1 and 65535, got %s' % values['port'])
    if values['transport'] == 'certificate':
        if values['scheme'] != 'https':
            raise _invalid('transport certificate needs scheme https')
        if not (values['client_cert'] and values['client_key']):
            raise _invalid('transport certificate needs client_cert and client_key '
                           '(ansible_winrm_cert_pem and ansible_winrm_cert_key_pem)')
    elif not values['username']:
        raise _invalid('no user name: set the username option, ansible_user, or %s' % env_var('username'))
    for option in ('connection_timeout', 'operation_timeout'):
        if not 1 <= values[option] <= 3600:
            raise _invalid('%s must be between 1 and 3600 seconds, got %s' % (option, values[option]))
    if values['connection_timeout'] <= values['operation_timeout']:
        raise _invalid('connection_timeout (%s) must be greater than operation_timeout (%s)'
                       % (values['connection_timeout'], values['operation_timeout']))
