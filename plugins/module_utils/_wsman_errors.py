# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Turning what pywinrm, requests and the XML layer raise into XProtectError, once.

This is private to the collection: its interface may change without notice.
Messages name the host, the operation and what to do; secrets are scrubbed from them.
"""

from __future__ import annotations

import re
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError, scrub_all, server_text
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import (
    CODE_CANNOT_PROCESS_FILTER,
    MAX_FAULT_TEXT,
    Fault,
    FaultReply,
    ProtocolError,
    setting_hint as _setting,
)

try:
    import requests.exceptions
    import winrm.exceptions
except ImportError:
    HAS_WINRM = False
else:
    HAS_WINRM = True

# OpenSSL's words when a https client meets a listener that answers in plain HTTP (1.1/3.0: wrong version
# number; 3.2+: record layer failure; older: unknown protocol, http request, packet length too long).
_PLAIN_HTTP = re.compile(r'wrong version number|record layer failure|unknown protocol|http request|packet length too long', re.I)
# The first bytes of a TLS record (alert 0x15 or handshake 0x16, version 3.x) where an HTTP status line was expected.
_TLS_RECORD = re.compile(r"BadStatusLine\(['\"]\\x1[56]\\x03")
# OpenSSL's words when the other end closed the connection in the middle of the handshake (SSLEOFError): a host
# that went down or dropped its connections, not a certificate to fix.
_EOF_IN_HANDSHAKE = re.compile(r'UNEXPECTED_EOF_WHILE_READING|EOF occurred in violation of protocol', re.I)


def fault_error(fault: t.Any, settings: t.Any = None, what: t.Optional[str] = None, namespace: str = 'root/cimv2') -> XProtectError:
    """The error for a fault whose kind is already known, with the operation and the account when given.

    A FaultReply (which keeps the fault), or for a timed-out operation the same error as pywinrm's
    WinRMOperationTimeoutError gets. namespace: the WMI namespace the request went to, which an
    access-denied answer names. Server text is scrubbed of the settings' secrets, then cut.
    """
    user = getattr(settings, 'username', None)
    reason = server_text(fault.detail or fault.reason or 'no reason given', getattr(settings, 'password', None), user, limit=MAX_FAULT_TEXT)
    doing = ('%s failed: ' % what) if what else ''
    if fault.kind == errors.ACCESS_DENIED:
        message = (
            '%saccess denied (%s): the account %s needs membership in the Remote Management Users group, the WMI '
            "permissions 'Enable Account' and 'Remote Enable' on %s (wmimgmt.msc), and rights on the service itself"
            % (doing, reason, "'%s'" % user if user else 'in use', namespace)
        )
    elif fault.kind == errors.NOT_FOUND:
        message = '%sno such WMI instance or class (%s): check the name' % (doing, reason)
    elif fault.kind == errors.TIMEOUT:
        return operation_timeout_error(settings, doing)
    elif CODE_CANNOT_PROCESS_FILTER in (fault.wsman_code, fault.wmi_code) or fault.subcode == 'CannotProcessFilter':
        message = '%sWMI rejected the query: %s' % (doing, reason)
    else:
        code = ' '.join(str(c) for c in (fault.wsman_code, fault.wmi_code) if c is not None)
        code = ' (code %s)' % code if code else ''
        message = '%sWS-Management fault %s%s: %s; see the Microsoft-Windows-WinRM/Operational event log on the host' % (
            doing,
            fault.subcode or 'without subcode',
            code,
            reason,
        )
    return FaultReply(fault, message)


def operation_timeout_error(settings: t.Any, doing: str = '') -> XProtectError:
    seconds = getattr(settings, 'operation_timeout', None)
    operation, connection = _setting(settings, 'operation_timeout'), _setting(settings, 'connection_timeout')
    return XProtectError(
        '%sthe WinRM service did not finish the operation within operation_timeout%s: raise %s '
        '(and %s above it) or check the load on the host'
        % (doing, ' (%s s)' % seconds if seconds is not None else '', operation, connection),
        kind=errors.TIMEOUT,
    )


def _short_reason(exc, secret=None, user=None):
    """The operating system's words for a network failure ('Connection refused'), else the text; at most 200 characters."""
    seen: t.List[BaseException] = []
    pending = [exc]
    reason = None
    while pending and len(seen) < 20:
        current = pending.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        if isinstance(current, OSError) and current.strerror:
            reason = str(current.strerror)
        pending.extend(arg for arg in getattr(current, 'args', ()) if isinstance(arg, BaseException))
        pending.extend(
            c for c in (getattr(current, 'reason', None), current.__cause__, current.__context__) if isinstance(c, BaseException)
        )
    if reason is None:
        text = str(exc)
        match = re.findall(r'\[Errno -?\d+\] ([^\'")\]]+)', text) or re.findall(r'(\[SSL[^\]]*\][^\'")]*)', text)
        reason = match[-1] if match else (text or type(exc).__name__)
    reason = re.sub(r'\s*\(_ssl\.c:\d+\)', '', reason)
    # Scrub before cutting: a cut password would no longer be recognised later.
    return server_text(reason, secret, user, limit=200)


def _dropped(exc):
    """Was the connection made and then closed or reset by the other end (rather than refused)?"""
    text = str(exc)
    return 'Connection aborted' in text or 'RemoteDisconnected' in text or 'Connection reset' in text


def to_xprotect_error(
    exc: BaseException, settings: t.Any, what: t.Optional[str] = None, namespace: str = 'root/cimv2', secrets: t.Iterable[str] = ()
) -> XProtectError:
    """The one place where exceptions from pywinrm, requests and XML parsing become XProtectError.

    secrets: values the request carried besides the connection's password (a service account's password given to
    Win32_Service.Change): scrubbed from the message as the password is.
    """
    host = getattr(settings, 'host', None)
    error = _classify(exc, settings, what, namespace)
    if error.host is None:
        error.host = host
    user = getattr(settings, 'username', None)
    every = [getattr(settings, 'password', None)] + [secret for secret in secrets if secret]
    error.message = scrub_all(error.message, every, user)
    if error.service is not None:
        error.service = scrub_all(error.service, every, user)
    return error


def _classify(exc, settings, what, namespace):
    if isinstance(exc, FaultReply):
        return fault_error(exc.fault, settings, what, namespace)
    if isinstance(exc, ProtocolError):
        return ProtocolError(exc.detail, settings)
    if isinstance(exc, XProtectError):
        return exc
    doing = ('%s failed: ' % what) if what else ''
    if isinstance(exc, ET.ParseError):
        return ProtocolError('not well-formed XML', settings)
    if not HAS_WINRM:
        return XProtectError('%s%s: %s' % (doing, type(exc).__name__, _short_reason(exc, *_secrets(settings))), kind=errors.ERROR)
    if isinstance(exc, requests.exceptions.RequestException):
        return _network_error(exc, settings, doing)
    if isinstance(exc, (winrm.exceptions.WinRMError, winrm.exceptions.WinRMTransportError, winrm.exceptions.WinRMOperationTimeoutError)):
        return _winrm_error(exc, settings, what, namespace, doing)
    if isinstance(exc, ImportError):
        return XProtectError(
            '%sa Python library is missing (%s): install pywinrm with the extra for this transport' % (doing, exc), kind=errors.INVALID
        )
    return XProtectError(
        '%sunexpected %s from the WinRM client: %s' % (doing, type(exc).__name__, _short_reason(exc, *_secrets(settings))),
        kind=errors.PROTOCOL,
    )


def _inventory(settings, option, value):
    """' (ansible_winrm_scheme: http)': the inventory variable to set on this host's connection, '' without one."""
    name = getattr(settings, 'inventory_variable', None)
    variable = name(option) if name else None
    return ' (%s: %s)' % (variable, value) if variable else ''


def _secrets(settings):
    return getattr(settings, 'password', None), getattr(settings, 'username', None)


def _network_error(exc, settings, doing):
    """requests' exceptions: the network, TLS, timeouts."""
    endpoint = getattr(settings, 'endpoint', None)
    reason = _short_reason(exc, *_secrets(settings))
    scheme = getattr(settings, 'scheme', None)
    if isinstance(exc, requests.exceptions.SSLError):
        if _PLAIN_HTTP.search(reason):
            return XProtectError(
                'the listener at %s answered in plain HTTP, not TLS (%s): use scheme http%s '
                'or port 5986' % (endpoint, reason, _inventory(settings, 'scheme', 'http')),
                kind=errors.TLS,
            )
        if _EOF_IN_HANDSHAKE.search(reason):
            return XProtectError(
                'the WinRM listener at %s closed the connection during the TLS handshake: the host may be restarting or '
                'overloaded, or something in between drops connections; check the host, then run the task again' % endpoint,
                kind=errors.UNREACHABLE,
            )
        return XProtectError(
            'TLS handshake with the WinRM listener at %s failed (%s): if its certificate comes from a private CA, set %s '
            "to that CA's PEM file; only to skip verification set validate_certs: false%s"
            % (endpoint, reason, _setting(settings, 'ca_trust_path'), _inventory(settings, 'validate_certs', 'ignore')),
            kind=errors.TLS,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return XProtectError(
            'could not connect to the WinRM listener at %s within connection_timeout (%s s): check that the host is up and not '
            'overloaded, or raise %s' % (endpoint, getattr(settings, 'connection_timeout', '?'), _setting(settings, 'connection_timeout')),
            kind=errors.TIMEOUT,
        )
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return reply_timeout_error(endpoint, getattr(settings, 'connection_timeout', '?'), settings)
    if scheme == 'http' and _TLS_RECORD.search(str(exc)):
        return XProtectError(
            'the listener at %s answered in TLS (https), not plain HTTP: use scheme https%s '
            'or port 5985' % (endpoint, _inventory(settings, 'scheme', 'https')),
            kind=errors.TLS,
        )
    if isinstance(exc, requests.exceptions.ConnectionError) and _dropped(exc):
        https_hint = (
            ', or the listener speaks https (then use scheme https%s, or port 5985)' % _inventory(settings, 'scheme', 'https')
            if scheme == 'http'
            else ''
        )
        return XProtectError(
            'the WinRM listener at %s closed the connection before answering: the host may be restarting or overloaded, or '
            'something in between drops connections%s; check the host, then run the task again' % (endpoint, https_hint),
            kind=errors.UNREACHABLE,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return XProtectError(
            'cannot connect to the WinRM listener at %s (%s): check %s and %s and that WinRM listens '
            '(winrm quickconfig)' % (endpoint, reason, _setting(settings, 'host'), _setting(settings, 'port')),
            kind=errors.UNREACHABLE,
        )
    return XProtectError(
        '%sHTTP exchange with the WinRM listener at %s failed (%s: %s)' % (doing, endpoint, type(exc).__name__, reason),
        kind=errors.PROTOCOL,
    )


def _winrm_error(exc, settings, what, namespace, doing):
    """pywinrm's own exceptions: authentication, faults, HTTP errors without a SOAP body."""
    endpoint = getattr(settings, 'endpoint', None)
    transport = getattr(settings, 'transport', '?')
    if isinstance(exc, winrm.exceptions.AuthenticationError):
        return _auth_error(exc, settings)
    if isinstance(exc, winrm.exceptions.WSManFaultError):
        return fault_error(Fault.from_exception(exc), settings, what, namespace)
    if isinstance(exc, winrm.exceptions.WinRMOperationTimeoutError):
        return operation_timeout_error(settings, doing)
    if isinstance(exc, winrm.exceptions.WinRMTransportError):
        hint = (
            'check %s (normally /wsman)' % _setting(settings, 'path')
            if exc.code == 404
            else 'see the Microsoft-Windows-WinRM/Operational event log on the host'
        )
        return XProtectError(
            '%sthe WinRM listener at %s answered HTTP %s without a SOAP reply: %s' % (doing, endpoint, exc.code, hint), kind=errors.PROTOCOL
        )
    text = server_text(exc, *_secrets(settings))
    if 'not installed' in text:
        return XProtectError(
            '%s: install the pywinrm extra for transport %s (pip install "pywinrm[%s]")' % (text, transport, transport), kind=errors.INVALID
        )
    return XProtectError('%s%s' % (doing, text), kind=errors.INVALID)


def _auth_error(exc, settings):
    transport = getattr(settings, 'transport', None)
    password, user = _secrets(settings)
    reason = server_text(exc, password, user)
    if isinstance(exc, winrm.exceptions.BasicAuthDisabledError):
        return XProtectError(
            'Basic authentication is disabled on the WinRM listener: use another transport or enable it '
            '(winrm set winrm/config/service/auth @{Basic="true"})',
            kind=errors.AUTH,
        )
    if transport == 'certificate':
        return XProtectError(
            'the WinRM listener rejected the client certificate (%s): check %s and %s '
            'and the certificate mapping on the host' % (reason, _setting(settings, 'client_cert'), _setting(settings, 'client_key')),
            kind=errors.AUTH,
        )
    non_ascii = ''
    if transport == 'basic' and not (str(password or '') + str(user or '')).isascii():
        non_ascii = (
            "; the credentials hold non-ASCII characters, which Basic authentication carries in the host's ANSI code "
            'page (sent as Windows-1252): transport ntlm%s carries any character' % _inventory(settings, 'transport', 'ntlm')
        )
    return XProtectError(
        "authentication as '%s' with transport %s failed (%s): check %s and %s (domain users as DOMAIN\\user or "
        'user@domain) and that the listener allows %s (winrm get winrm/config/service/auth)%s'
        % (user, transport, reason, _setting(settings, 'username'), _setting(settings, 'password'), transport, non_ascii),
        kind=errors.AUTH,
    )


# -- what the transport (_transport.py) raises ----------------------------------------------------


def reply_timeout_error(endpoint: t.Optional[str], seconds: t.Any, settings: t.Any = None) -> XProtectError:
    """No complete answer within the read timeout, however slowly its bytes came."""
    return XProtectError(
        'could not get an answer from the WinRM listener at %s within connection_timeout (%s s): no complete answer within %s s; '
        'check that the host is up and not overloaded, or raise %s'
        % (endpoint, seconds, seconds, _setting(settings, 'connection_timeout')),
        kind=errors.TIMEOUT,
    )


def reply_too_large_error(endpoint: str, limit: int, settings: t.Any = None) -> XProtectError:
    return XProtectError(
        "the listener at %s sent a reply larger than %d MiB, refused while it came in: a WinRM listener's replies are far smaller; "
        'check that %s and %s point at a Windows WinRM listener'
        % (endpoint, limit // (1024 * 1024), _setting(settings, 'host'), _setting(settings, 'port')),
        kind=errors.PROTOCOL,
    )


def compressed_reply_error(endpoint: str, encoding: str, settings: t.Any = None) -> XProtectError:
    return XProtectError(
        'the listener at %s sent a compressed reply (Content-Encoding %s) though none was asked for: a WinRM listener never does; '
        'check that %s and %s point at a Windows WinRM listener and that nothing in between rewrites its answers'
        % (endpoint, server_text(encoding, limit=40), _setting(settings, 'host'), _setting(settings, 'port')),
        kind=errors.PROTOCOL,
    )


def redirect_error(
    endpoint: str,
    status: int,
    location: t.Optional[str],
    secret: t.Optional[str] = None,
    user: t.Optional[str] = None,
    settings: t.Any = None,
) -> XProtectError:
    """A 3xx answer: never followed (the credentials would go along)."""
    return XProtectError(
        'the listener at %s answered HTTP %s redirecting to %s, which was not followed: a WinRM listener never redirects; '
        'check %s, %s and %s'
        % (
            endpoint,
            status,
            server_text(location or '(no Location)', secret, user),
            _setting(settings, 'host'),
            _setting(settings, 'port'),
            _setting(settings, 'path'),
        ),
        kind=errors.PROTOCOL,
    )


def basic_encoding_error(what: str, settings: t.Any = None) -> XProtectError:
    """Basic credentials Windows could not decode (see _transport.basic_credentials)."""
    return XProtectError(
        "transport basic cannot carry this %s: Windows decodes Basic credentials in the host's ANSI code page, and the %s has "
        'characters outside Windows-1252 (the code page sent); nothing was sent. Use transport ntlm%s, '
        'which carries any character' % (what, what, _inventory(settings, 'transport', 'ntlm')),
        kind=errors.INVALID,
    )
