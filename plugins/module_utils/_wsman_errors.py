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
import xml.etree.ElementTree as ET

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError, scrub
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import Fault, FaultReply, fault_error, protocol_error, operation_timeout_error

try:
    import requests.exceptions
    import winrm.exceptions
except ImportError:
    HAS_WINRM = False
else:
    HAS_WINRM = True

def _short_reason(exc, secret=None):
    """The operating system's words for a network failure ('Connection refused'), else the text; at most 200 characters."""
    seen = []
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
        pending.extend(c for c in (getattr(current, 'reason', None), current.__cause__, current.__context__) if isinstance(c, BaseException))
    if reason is None:
        text = str(exc)
        match = re.findall(r'\[Errno -?\d+\] ([^\'")\]]+)', text) or re.findall(r'(\[SSL[^\]]*\][^\'")]*)', text)
        reason = match[-1] if match else (text or type(exc).__name__)
    reason = re.sub(r'\s*\(_ssl\.c:\d+\)', '', reason)
    # Scrub before cutting: a cut password would no longer be recognised later.
    reason = ' '.join(scrub(reason, secret).split())
    return reason if len(reason) <= 200 else reason[:197] + '...'


def _dropped(exc):
    """Was the connection made and then closed or reset by the other end (rather than refused)?"""
    text = str(exc)
    return 'Connection aborted' in text or 'RemoteDisconnected' in text or 'Connection reset' in text


def to_xprotect_error(exc, settings, what=None, namespace='root/cimv2'):
    """The one place where exceptions from pywinrm, requests and XML parsing become XProtectError."""
    host = getattr(settings, 'host', None)
    error = _classify(exc, settings, what, namespace)
    if error.host is None:
        error.host = host
    secret, user = getattr(settings, 'password', None), getattr(settings, 'username', None)
    error.message = scrub(error.message, secret, user)
    if error.service is not None:
        error.service = scrub(error.service, secret, user)
    return error


def _classify(exc, settings, what, namespace):
    if isinstance(exc, FaultReply):
        return fault_error(exc.fault, settings, what, namespace)
    if isinstance(exc, XProtectError):
        return exc
    endpoint = getattr(settings, 'endpoint', None)
    secret = getattr(settings, 'password', None)
    doing = ('%s failed: ' % what) if what else ''
    if isinstance(exc, ET.ParseError):
        return protocol_error('not well-formed XML')
    if not HAS_WINRM:
        return XProtectError('%s%s: %s' % (doing, type(exc).__name__, exc), kind=errors.ERROR)

    if isinstance(exc, requests.exceptions.SSLError):
        return XProtectError(
            'TLS handshake with the WinRM listener at %s failed (%s): if its certificate comes from a private CA, set ca_trust_path '
            '(ansible_winrm_ca_trust_path) to that CA\'s PEM file; only to skip verification set validate_certs: false '
            '(ansible_winrm_server_cert_validation: ignore)' % (endpoint, _short_reason(exc, secret)), kind=errors.TLS)
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout)):
        verb = 'connect to' if isinstance(exc, requests.exceptions.ConnectTimeout) else 'get an answer from'
        return XProtectError(
            'could not %s the WinRM listener at %s within connection_timeout (%s s): check that the host is up and not overloaded, '
            'or raise connection_timeout (ansible_winrm_read_timeout_sec)' % (verb, endpoint, getattr(settings, 'connection_timeout', '?')),
            kind=errors.TIMEOUT)
    if isinstance(exc, requests.exceptions.ConnectionError) and _dropped(exc):
        return XProtectError(
            'the WinRM listener at %s closed the connection before answering: the host may be restarting or overloaded, or '
            'something in between drops connections; check the host, then run the task again' % endpoint, kind=errors.UNREACHABLE)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return XProtectError(
            'cannot connect to the WinRM listener at %s (%s): check ansible_host/ansible_port and that WinRM listens '
            '(winrm quickconfig)' % (endpoint, _short_reason(exc, secret)), kind=errors.UNREACHABLE)
    if isinstance(exc, requests.exceptions.RequestException):
        return XProtectError('%sHTTP exchange with the WinRM listener at %s failed (%s: %s)'
                             % (doing, endpoint, type(exc).__name__, _short_reason(exc, secret)), kind=errors.PROTOCOL)
    if isinstance(exc, winrm.exceptions.AuthenticationError):
        return _auth_error(exc, settings)
    if isinstance(exc, winrm.exceptions.WSManFaultError):
        return fault_error(Fault.from_exception(exc), settings, what, namespace)
    if isinstance(exc, winrm.exceptions.WinRMOperationTimeoutError):
        return operation_timeout_error(settings, doing)
    if isinstance(exc, winrm.exceptions.WinRMTransportError):
        hint = 'check ansible_winrm_path (normally /wsman)' if exc.code == 404 else 'see the Microsoft-Windows-WinRM/Operational event log on the host'
        return XProtectError('%sthe WinRM listener at %s answered HTTP %s without a SOAP reply: %s'
                             % (doing, endpoint, exc.code, hint), kind=errors.PROTOCOL)
    if isinstance(exc, winrm.exceptions.WinRMError):
        text = ' '.join(str(exc).split())
        if 'not installed' in text:
            return XProtectError('%s: install the pywinrm extra for transport %s (pip install "pywinrm[%s]")'
                                 % (text, getattr(settings, 'transport', '?'), getattr(settings, 'transport', '?')), kind=errors.INVALID)
        return XProtectError('%s%s' % (doing, text), kind=errors.INVALID)
    if isinstance(exc, ImportError):
        return XProtectError('%sa Python library is missing (%s): install pywinrm with the extra for this transport' % (doing, exc),
                             kind=errors.INVALID)
    return XProtectError('%sunexpected %s from the WinRM client: %s' % (doing, type(exc).__name__, _short_reason(exc, secret)), kind=errors.PROTOCOL)


def _auth_error(exc, settings):
    transport = getattr(settings, 'transport', None)
    reason = ' '.join(str(exc).split())
    if isinstance(exc, winrm.exceptions.BasicAuthDisabledError):
        return XProtectError('Basic authentication is disabled on the WinRM listener: use another transport or enable it '
                             '(winrm set winrm/config/service/auth @{Basic="true"})', kind=errors.AUTH)
    if transport == 'certificate':
        return XProtectError('the WinRM listener rejected the client certificate (%s): check client_cert/client_key '
                             '(ansible_winrm_cert_pem/ansible_winrm_cert_key_pem) and the certificate mapping on the host' % reason, kind=errors.AUTH)
    return XProtectError(
        "authentication as '%s' with transport %s failed (%s): check ansible_user/ansible_password (domain users as DOMAIN\\user or "
        'user@domain) and that the listener allows %s (winrm get winrm/config/service/auth)'
        % (getattr(settings, 'username', None), transport, reason, transport), kind=errors.AUTH)


