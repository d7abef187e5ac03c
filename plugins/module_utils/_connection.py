# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection settings shared by every module and action plugin: precedence and the endpoint.

This is private to the collection: its interface may change without notice.
The options themselves (types, defaults, ranges, environment and inventory variables) are the
table in _connection_options. Credentials go to the configured endpoint and nowhere else: the
host is a DNS name or an IP address, the path a plain absolute path, the port a port, all checked
before anything is sent, so the endpoint is always exactly scheme://host:port/path.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils._connection_options import (
    DEFAULTS,
    HTTP_PORT,
    HTTPS_PORT,
    OPTIONS,
    CONNECTION_OPTIONS,
    HostSettings,
    env_var,
    invalid,
)
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError, scrub

# A DNS label: letters, digits, hyphens, not starting or ending with a hyphen (RFC 1123). Underscores are
# accepted too: Windows (NetBIOS-era) host names and AD-integrated DNS zones have them, and in a URL's
# host an underscore is only a letter (it cannot end the host or start a path, query or user name).
_LABEL = re.compile(r'(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z')
_MAX_NAME = 253
# Only unreserved characters (RFC 3986) in path segments: no query, fragment, %-escape, '@', ':' or space.
_DIGITS = re.compile(r'[0-9]+\Z')
_PATH = re.compile(r'/(?:[A-Za-z0-9._~-]+/)*[A-Za-z0-9._~-]*\Z')
_SHOWN = 80
_ONLY_A_HOST = "give only the host's DNS name, IPv4 or IPv6 address; the user name, port, scheme and path are settings of their own"


def _shown(value: str) -> str:
    """The value quoted for a message: user information before an '@' masked, at most _SHOWN characters."""
    if '@' in value:
        value = '***@' + value.rsplit('@', 1)[1]
    value = value if len(value) <= _SHOWN else value[: _SHOWN - 3] + '...'
    return repr(value)


def _bad_host(value: str, source: str, reason: str) -> XProtectError:
    return invalid('host %s from %s is not a DNS name, IPv4 or IPv6 address (%s): %s' % (_shown(value), source, reason, _ONLY_A_HOST))


def _host_problem(text: str) -> t.Optional[str]:
    """Why text cannot be a host in a URL at all, or None."""
    if any(character.isspace() or not character.isprintable() for character in text):
        return 'it contains whitespace or control characters'
    for character, what in (('@', 'user information'), ('/', 'path'), ('?', 'query'), ('#', 'fragment'), ('\\', 'path')):
        if character in text:
            return "'%s' is not allowed: no %s in the host" % (character, what)
    if '%' in text and ':' in text:
        return 'IPv6 zone ids (%eth0) are not supported: use a global or unique local address, or the name'
    if '%' in text:
        return "'%' is not allowed: no %-escapes in the host"
    return None


def _not_ipv6(text: str) -> str:
    if text.startswith('[') and text.endswith(']'):
        return 'brackets hold only an IPv6 address'
    if text.startswith('['):
        return 'a port goes in the port setting, not after the brackets'
    if text.count(':') == 1:
        return 'a port goes in the port setting, not in the host'
    return 'not a valid IPv6 address'


def endpoint_host(value: t.Any, source: str = 'the host option') -> str:
    """The host for a URL: a DNS name as given, an IPv4 address, or an IPv6 address without brackets."""
    text = str(value)
    problem = _host_problem(text)
    if problem:
        raise _bad_host(text, source, problem)
    bracketed = text.startswith('[') and text.endswith(']')
    if bracketed or ':' in text:
        try:
            return str(ipaddress.IPv6Address(text[1:-1] if bracketed else text))
        except ValueError:
            raise _bad_host(text, source, _not_ipv6(text)) from None
    name = text[:-1] if text.endswith('.') else text
    labels = name.split('.')
    if all(_DIGITS.match(label) for label in labels):
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            raise _bad_host(text, source, 'not a valid IPv4 address') from None
    if len(name) > _MAX_NAME:
        raise _bad_host(text, source, 'a DNS name has at most %d characters' % _MAX_NAME)
    if not all(_LABEL.match(label) for label in labels) or _DIGITS.match(labels[-1]):
        raise _bad_host(
            text,
            source,
            'a DNS name is labels of 1 to 63 letters, digits, hyphens or underscores, joined by dots, '
            'not starting or ending with a hyphen, and not ending in a number; internationalised names go in '
            'their xn-- form',
        )
    return text


def endpoint_path(value: t.Any, source: str = 'the path option') -> str:
    """The URL path: plain, absolute (the psrp plugin's 'wsman' gets its leading slash), no '.' or '..' segment."""
    text = str(value)
    path = text if text.startswith('/') else '/' + text
    if not _PATH.match(path) or any(segment in ('.', '..') for segment in path.split('/')):
        raise invalid(
            'path %s from %s is not a plain absolute path: use /, letters, digits and - . _ ~ only, without '
            "query, fragment, %%-escapes, '//', '.' or '..' segments (the default is /wsman)" % (_shown(text), source)
        )
    return path


class ConnectionSettings:
    """Where and how to reach one Windows host's WinRM listener.

    The endpoint's parts are checked here, so endpoint is always exactly scheme://host:port/path.
    connection: 'winrm' or 'psrp' when the settings came from such an inventory host, else None.
    sources:    option -> where its value came from (for messages).
    """

    def __init__(
        self,
        host: str,
        port: int = HTTPS_PORT,
        scheme: str = 'https',
        path: str = DEFAULTS['path'],
        username: t.Optional[str] = None,
        password: t.Optional[str] = None,
        transport: str = DEFAULTS['transport'],
        validate_certs: bool = DEFAULTS['validate_certs'],
        ca_trust_path: t.Optional[str] = None,
        client_cert: t.Optional[str] = None,
        client_key: t.Optional[str] = None,
        message_encryption: str = DEFAULTS['message_encryption'],
        connection_timeout: int = DEFAULTS['connection_timeout'],
        operation_timeout: int = DEFAULTS['operation_timeout'],
        connection: t.Optional[str] = None,
        sources: t.Optional[dict] = None,
    ) -> None:
        self.sources = dict(sources or {})
        if scheme not in OPTIONS['scheme'].choices:
            raise invalid('scheme must be http or https, got %r (from %s)' % (scheme, self.source('scheme')))
        if isinstance(port, bool) or not isinstance(port, int):
            raise invalid('port must be an integer, got %r (from %s)' % (port, self.source('port')))
        OPTIONS['port'].check_range(port, self.source('port'))
        self.host = endpoint_host(host, self.source('host'))
        self.port = port
        self.scheme = scheme
        self.path = endpoint_path(path, self.source('path'))
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
        self.connection = connection

    @property
    def endpoint(self) -> str:
        host = '[%s]' % self.host if ':' in self.host else self.host
        return '%s://%s:%s%s' % (self.scheme, host, self.port, self.path)

    def source(self, option: str) -> str:
        """Where the option's value came from: 'the task option port', 'inventory variable ansible_port', ..."""
        return self.sources.get(option) or 'the %s option' % option

    def inventory_variable(self, option: str) -> t.Optional[str]:
        """The inventory variable a hint names for the option on this host's connection, None without one."""
        return OPTIONS[option].hint_variable(self.connection)

    def setting_name(self, option: str) -> str:
        """The option as a hint names it, with the inventory variable of this host's connection:
        'connection_timeout (ansible_psrp_read_timeout)'; only the option without an inventory host."""
        variable = self.inventory_variable(option)
        return '%s (%s)' % (option, variable) if variable else option

    def __repr__(self) -> str:
        # Never show the password.
        return 'ConnectionSettings(%s, user=%r, transport=%s)' % (self.endpoint, self.username, self.transport)


def _first_set(option, task_options, host_settings, environ):
    """The option's value and where it came from: the task, the inventory host, the environment; or (None, None)."""
    value = task_options.get(option.name)
    if value is not None:
        return value, 'the task option %s' % option.name
    value = host_settings.get(option.name)
    if value is not None:
        return value, getattr(host_settings, 'sources', {}).get(option.name, 'the inventory')
    value = environ.get(option.env)
    if value not in (None, ''):
        return value, 'environment variable %s' % option.env
    return None, None


def _apply_defaults(values, sources):
    # Port and scheme default to each other the way the winrm connection plugin does.
    if values['port'] is None:
        values['port'] = HTTP_PORT if values['scheme'] == 'http' else HTTPS_PORT
    if values['scheme'] is None:
        values['scheme'] = 'http' if values['port'] == HTTP_PORT else 'https'
    for option, default in DEFAULTS.items():
        if values[option] is None:
            values[option] = default
    for option in values:
        sources[option] = sources[option] or 'the default'


def resolve_connection(
    task_options: dict, host_settings: t.Optional[dict] = None, environ: t.Optional[t.Mapping[str, str]] = None
) -> ConnectionSettings:
    """The one place where connection precedence is decided.

    task_options:  the task's own options (None = not given).
    host_settings: the inventory host's connection settings (a HostSettings from host_settings_from_vars or
                   host_settings_from_plugin, or a plain dict), already in our option names.
    environ:       environment variables (XPROTECT_GO_<OPTION>).
    Each option takes the first value found in that order, then the default. Settings that cannot
    work are refused, naming the setting they came from, before anything is sent.
    """
    host_settings = HostSettings() if host_settings is None else host_settings
    environ = environ or {}
    values: t.Dict[str, t.Any]
    values, sources = {}, {}
    for option in CONNECTION_OPTIONS:
        value, source = _first_set(option, task_options, host_settings, environ)
        values[option.name] = None if value is None else option.convert(value, source)
        sources[option.name] = source
    _apply_defaults(values, sources)
    if not values['host']:
        raise invalid("no host to connect to: set the host option, the inventory host's ansible_host, or %s" % env_var('host'))
    try:
        settings = ConnectionSettings(connection=getattr(host_settings, 'connection', None), sources=sources, **values)
        _check(settings)
    except XProtectError as error:
        error.message = scrub(error.message, values['password'], values['username'])
        raise
    return settings


def _check(settings: ConnectionSettings) -> None:
    """Refuse settings that cannot work, naming the option to fix (the endpoint is checked by ConnectionSettings)."""
    choices = OPTIONS['transport'].choices
    if settings.transport not in choices:
        raise invalid(
            'transport %r from %s is not supported; use one of %s' % (settings.transport, settings.source('transport'), ', '.join(choices))
        )
    if settings.transport == 'certificate':
        if settings.scheme != 'https':
            raise invalid('transport certificate needs scheme https')
        if not (settings.client_cert and settings.client_key):
            raise invalid(
                'transport certificate needs client_cert and client_key%s' % _inventory_names(settings, 'client_cert', 'client_key')
            )
    elif not settings.username:
        raise invalid('no user name: set the username option, ansible_user, or %s' % env_var('username'))
    for option in ('connection_timeout', 'operation_timeout'):
        OPTIONS[option].check_range(getattr(settings, option), settings.source(option))
    if settings.connection_timeout <= settings.operation_timeout:
        raise invalid(
            'connection_timeout (%s) must be greater than operation_timeout (%s)%s'
            % (
                settings.connection_timeout,
                settings.operation_timeout,
                _inventory_names(settings, 'connection_timeout', 'operation_timeout'),
            )
        )


def _inventory_names(settings: ConnectionSettings, *options: str) -> str:
    """' (ansible_winrm_cert_pem and ansible_winrm_cert_key_pem)' on an inventory host, else ''."""
    names = [settings.inventory_variable(option) for option in options]
    return ' (%s)' % ' and '.join(t.cast(t.List[str], names)) if all(names) else ''
