# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small WS-Management client for WMI: enumerate (WQL), get and invoke.

This is private to the collection: its interface may change without notice.

Requests go through pywinrm's authenticated transport (``winrm.protocol.Protocol``:
``build_wsman_header`` + ``send_message``); the SOAP bodies are built and the replies parsed
here with ElementTree. Every failure becomes ``XProtectError``, a one-line message that names
the host and what to do.
"""

from __future__ import annotations

import codecs
import re
import traceback
import typing as t
import xml.etree.ElementTree as ET
from urllib.parse import quote as url_quote
from xml.sax.saxutils import escape, quoteattr

try:
    import requests.exceptions
    import winrm.exceptions
    from winrm.protocol import Protocol
except ImportError:
    HAS_WINRM = False
    WINRM_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_WINRM = True
    WINRM_IMPORT_ERROR = None


NS_SOAP = 'http://www.w3.org/2003/05/soap-envelope'
NS_ADDRESSING = 'http://schemas.xmlsoap.org/ws/2004/08/addressing'
NS_WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'
NS_ENUMERATION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration'
NS_TRANSFER = 'http://schemas.xmlsoap.org/ws/2004/09/transfer'
NS_WSMAN_FAULT = 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault'
NS_WMI_ERROR = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError'
WMI_RESOURCE_BASE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/'
WQL_DIALECT = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'

ACTION_ENUMERATE = NS_ENUMERATION + '/Enumerate'
ACTION_PULL = NS_ENUMERATION + '/Pull'
ACTION_GET = NS_TRANSFER + '/Get'

# Windows cuts pages by envelope size anyway; this only says "as many as fit".
MAX_ELEMENTS = 32000
DEFAULT_MAX_PAGES = 100
DEFAULT_MAX_ITEMS = 10000

# Limits on replies we are willing to parse (the largest real enumeration page is ~150 KB).
MAX_REPLY_CHARS = 16 * 1024 * 1024
MAX_XML_DEPTH = 64
_FEED_CHUNK = 64 * 1024

# HRESULTs Windows puts in f:WSManFault/@Code.
CODE_ACCESS_DENIED = 2147942405          # 0x80070005 E_ACCESSDENIED
CODE_NOT_FOUND = 2150858752              # resource URI + selectors match nothing
CODE_CANNOT_PROCESS_FILTER = 2150858778
CODE_TIMED_OUT = 2150858793

KINDS = ('unreachable', 'auth', 'tls', 'timeout', 'access_denied', 'not_found', 'fault',
         'protocol', 'invalid', 'service')

_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_]{0,127}')
_NAMESPACE = re.compile(r'root(/[A-Za-z0-9_]{1,64}){0,8}')
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML_CHAR = re.compile('[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')
_XML_DECLARATION = re.compile(r'\A\s*<\?xml[^>]*\?>')

# Keys of the dict pywinrm's build_wsman_header returns (xmltodict shape).
_ENVELOPE = 'env:Envelope'
_HEADER = 'env:Header'
_BODY = 'env:Body'


class XProtectError(Exception):
    """The collection's one exception type.

    ``kind`` says what went wrong (see ``KINDS``); ``str()`` is one line naming the host (and
    the service when known) and what to do about it. Messages never contain a password.
    """

    def __init__(self, message, host=None, service=None, kind='error', result=None):
        super().__init__(message)
        self.message = message
        self.host = host
        self.service = service
        self.kind = kind
        # What was done before the failure (services, actions), so the task result can show it.
        self.result = result or {}

    @property
    def message(self):
        return self.args[0]

    @message.setter
    def message(self, value):
        # args mirror the message so that repr() and pickling never show an older (unscrubbed) text.
        self.args = (' '.join(str(value).split()),)

    @property
    def unreachable(self):
        """True when the host could not be talked to at all (Ansible's "unreachable")."""
        return self.kind in ('unreachable', 'timeout')

    def __str__(self):
        parts = []
        if self.host:
            parts.append(str(self.host))
        if self.service:
            parts.append("service '%s'" % self.service)
        parts.append(self.message)
        return ': '.join(parts)


class EnumerationPage(t.NamedTuple):
    """One EnumerateResponse or PullResponse."""

    items: list
    context: t.Optional[str]
    end_of_sequence: bool


def _protocol_error(detail):
    return XProtectError('unexpected reply from the WinRM listener (%s): check that ansible_host/ansible_port point at a '
                         'Windows WinRM listener and that nothing in between rewrites its answers' % detail, kind='protocol')


# ---------------------------------------------------------------------------------------------
# Parsing replies

def _split_tag(tag):
    """'{ns}local' -> (ns, local); unqualified -> ('', local)."""
    if tag[:1] == '{':
        namespace, _sep, local = tag[1:].partition('}')
        return namespace, local
    return '', tag


def _decode(xml):
    if isinstance(xml, (bytes, bytearray)):
        data = bytes(xml)
        if data.startswith(codecs.BOM_UTF8):
            encoding = 'utf-8-sig'
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = 'utf-16'
        elif data.startswith(b'<\x00'):
            encoding = 'utf-16-le'
        elif data.startswith(b'\x00<'):
            encoding = 'utf-16-be'
        else:
            encoding = 'utf-8'
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise _protocol_error('not valid %s text' % encoding) from None
    elif isinstance(xml, str):
        text = xml
    else:
        raise _protocol_error('no XML text')
    return text.lstrip('\ufeff')


def _parse_xml(xml):
    """Parse untrusted XML: no DTDs (so no entity expansion), bounded size and depth."""
    text = _decode(xml)
    if not text.strip():
        raise _protocol_error('empty reply')
    if len(text) > MAX_REPLY_CHARS:
        raise _protocol_error('reply larger than %d characters' % MAX_REPLY_CHARS)
    if '<!DOCTYPE' in text or '<!ENTITY' in text:
        raise _protocol_error('document type declarations are refused')
    # The text is already decoded: an encoding declaration would only mislead the parser.
    text = _XML_DECLARATION.sub('', text, count=1)

    parser = ET.XMLPullParser(events=('start', 'end'))
    root = None
    depth = 0
    try:
        for offset in range(0, len(text), _FEED_CHUNK):
            parser.feed(text[offset:offset + _FEED_CHUNK])
            for event, element in parser.read_events():
                if event == 'start':
                    depth += 1
                    if root is None:
                        root = element
                    if depth > MAX_XML_DEPTH:
                        raise _protocol_error('XML nested deeper than %d levels' % MAX_XML_DEPTH)
                else:
                    depth -= 1
        parser.close()
    except (ET.ParseError, ValueError, UnicodeError) as exc:
        raise _protocol_error('not well-formed XML: %s' % exc) from None
    if root is None:
        raise _protocol_error('no XML element')
    return root


def _soap_body(xml):
    """The s:Body of a SOAP envelope; a fault in it becomes XProtectError."""
    root = _parse_xml(xml)
    if root.tag != '{%s}Envelope' % NS_SOAP:
        raise _protocol_error('root element is %s, not a SOAP 1.2 Envelope' % _split_tag(root.tag)[1])
    body = root.find('{%s}Body' % NS_SOAP)
    if body is None:
        raise _protocol_error('SOAP envelope without Body')
    fault = body.find('{%s}Fault' % NS_SOAP)
    if fault is not None:
        raise _FaultReply(_Fault.from_element(fault))
    return body


def _is_nil(element):
    # Match xsi:nil by local name: old Windows builds wrote the xsi namespace differently.
    return any(_split_tag(name)[1] == 'nil' and value.strip() in ('true', '1') for name, value in element.attrib.items())


def _value(element):
    if _is_nil(element):
        return None
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text or ''
    if len(children) == 1 and not len(children[0]):
        # A typed wrapper: <p:InstallDate><cim:Datetime>20240101...</cim:Datetime></p:InstallDate>.
        return children[0].text or ''
    # An embedded instance.
    return _properties(children, {}, namespace=None)


def _properties(children, result, namespace):
    """Add child elements to ``result``; with ``namespace``, only those in it."""
    for child in children:
        if not isinstance(child.tag, str):
            continue
        child_namespace, name = _split_tag(child.tag)
        if namespace and child_namespace != namespace:
            continue
        value = _value(child)
        if name in result:
            # Array properties repeat the element.
            previous = result[name]
            result[name] = previous + [value] if isinstance(previous, list) else [previous, value]
        else:
            result[name] = value
    return result


def _instance(element, with_class=True):
    """A WMI instance (p:<Class> or w:XmlFragment) as {property: str | None}.

    Repeated elements (array properties) become lists, embedded instances dicts.
    """
    namespace, local = _split_tag(element.tag)
    fragment = namespace == NS_WSMAN and local == 'XmlFragment'
    result = {'__class__': local} if with_class and namespace and not fragment else {}
    # Properties share the instance's namespace; others (cim:Location) are metadata. Fragment children are unqualified.
    return _properties(element, result, namespace=None if fragment else namespace)


def _child(parent, local, namespaces):
    for namespace in namespaces:
        found = parent.find('{%s}%s' % (namespace, local))
        if found is not None:
            return found
    return None


def _page(body, response_name, items_namespaces):
    response = body.find('{%s}%s' % (NS_ENUMERATION, response_name))
    if response is None:
        raise _protocol_error('no %s in the SOAP body' % response_name)
    context_element = response.find('{%s}EnumerationContext' % NS_ENUMERATION)
    context = None
    if context_element is not None:
        # Server 2003 sends an empty context together with w:EndOfSequence.
        context = (context_element.text or '').strip() or None
    end = _child(response, 'EndOfSequence', (NS_WSMAN, NS_ENUMERATION)) is not None
    items_element = _child(response, 'Items', items_namespaces)
    items = [_instance(item) for item in items_element if isinstance(item.tag, str)] if items_element is not None else []
    if not end and context is None:
        raise _protocol_error('%s has neither EnumerationContext nor EndOfSequence' % response_name)
    return EnumerationPage(items=items, context=context, end_of_sequence=end)


def parse_enumerate_response(xml):
    """EnumerateResponse -> EnumerationPage (first items come in w:Items with OptimizeEnumeration)."""
    return _page(_soap_body(xml), 'EnumerateResponse', (NS_WSMAN, NS_ENUMERATION))


def parse_pull_response(xml):
    """PullResponse -> EnumerationPage (items in n:Items; the last page has n:EndOfSequence)."""
    return _page(_soap_body(xml), 'PullResponse', (NS_ENUMERATION, NS_WSMAN))


def parse_get_response(xml):
    """GetResponse -> the instance's properties."""
    body = _soap_body(xml)
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise _protocol_error('GetResponse body holds %d elements instead of one instance' % len(elements))
    if _split_tag(elements[0].tag)[0] in (NS_SOAP, NS_ADDRESSING, NS_ENUMERATION, NS_TRANSFER):
        raise _protocol_error('GetResponse body holds %s instead of an instance' % _split_tag(elements[0].tag)[1])
    return _instance(elements[0])


def parse_invoke_response(xml, method):
    """Invoke response -> the properties of <method>_OUTPUT (ReturnValue stays a string)."""
    body = _soap_body(xml)
    wanted = '%s_OUTPUT' % method
    for child in body:
        if isinstance(child.tag, str) and _split_tag(child.tag)[1] == wanted:
            return _instance(child, with_class=False)
    raise _protocol_error('no %s in the SOAP body' % wanted)


def return_value(output):
    """The integer ReturnValue of an invoke() result."""
    value = output.get('ReturnValue') if isinstance(output, dict) else None
    try:
        return int(value.strip())
    except (AttributeError, ValueError):
        raise _protocol_error('method output without an integer ReturnValue') from None


# ---------------------------------------------------------------------------------------------
# Faults and error mapping

class _Fault:
    """The parts of a WS-Management fault the error mapping looks at."""

    def __init__(self, subcode=None, reason=None, wsman_code=None, wmi_code=None, detail=None):
        self.subcode = _local_name(subcode)
        self.reason = ' '.join((reason or '').split())
        self.wsman_code = wsman_code
        self.wmi_code = wmi_code
        self.detail = ' '.join((detail or '').split())

    @classmethod
    def from_element(cls, fault):
        subcode = fault.find('{0}Code/{0}Subcode/{0}Value'.format('{%s}' % NS_SOAP))
        reason = fault.find('{0}Reason/{0}Text'.format('{%s}' % NS_SOAP))
        wsman_fault = fault.find('{%s}Detail/{%s}WSManFault' % (NS_SOAP, NS_WSMAN_FAULT))
        wmi_code = fault.find('{%s}Detail/{%s}MSFT_WmiError/{%s}error_Code' % (NS_SOAP, NS_WMI_ERROR, NS_WMI_ERROR))
        return cls(subcode=subcode.text if subcode is not None else None,
                   reason=reason.text if reason is not None else None,
                   wsman_code=_int_or_none(wsman_fault.get('Code') if wsman_fault is not None else None),
                   wmi_code=_int_or_none(wmi_code.text if wmi_code is not None else None),
                   detail=_innermost_message(fault))

    @classmethod
    def from_exception(cls, exc):
        """From pywinrm's WSManFaultError, plus the provider's own message from the raw reply."""
        detail = None
        if exc.response:
            try:
                detail = _innermost_message(_parse_xml(exc.response))
            except XProtectError:
                detail = None
        return cls(subcode=exc.fault_subcode, reason=exc.reason, wsman_code=exc.wsman_fault_code,
                   wmi_code=exc.wmierror_code, detail=detail)


class _FaultReply(XProtectError):
    """A fault inside a reply body; the client re-classifies it with the operation and the user."""

    def __init__(self, fault):
        error = fault_error(fault)
        super().__init__(error.message, kind=error.kind)
        self.fault = fault


def _local_name(qname):
    """'w:AccessDenied' -> 'AccessDenied'."""
    return (qname or '').strip().rpartition(':')[2] or None


def _int_or_none(text):
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return None


def _innermost_message(element):
    """The deepest provider message of a fault (WMI's own words, e.g. 'class does not exist')."""
    message = None
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        namespace, local = _split_tag(node.tag)
        if (namespace == NS_WSMAN_FAULT and local in ('Message', 'ProviderFault')) or (namespace == NS_WMI_ERROR and local == 'Message'):
            text = ' '.join((node.text or '').split())
            if text:
                message = text
    return message


def fault_error(fault, settings=None, what=None, namespace='root/cimv2'):
    """Turn a WS-Management fault into XProtectError (kind by subcode and Windows' HRESULT).

    namespace: the WMI namespace the request went to, which an access-denied answer names.
    """
    codes = {fault.wsman_code, fault.wmi_code}
    reason = fault.detail or fault.reason or 'no reason given'
    doing = ('%s failed: ' % what) if what else ''
    user = getattr(settings, 'username', None)
    if CODE_ACCESS_DENIED in codes or fault.subcode == 'AccessDenied':
        return XProtectError(
            '%saccess denied (%s): the account %s needs membership in the Remote Management Users group, the WMI permissions '
            "'Enable Account' and 'Remote Enable' on %s (wmimgmt.msc), and rights on the service itself"
            % (doing, reason, "'%s'" % user if user else 'in use', namespace), kind='access_denied')
    if CODE_NOT_FOUND in codes or fault.subcode == 'DestinationUnreachable':
        return XProtectError('%sno such WMI instance or class (%s): check the name' % (doing, reason), kind='not_found')
    if CODE_CANNOT_PROCESS_FILTER in codes or fault.subcode == 'CannotProcessFilter':
        return XProtectError('%sWMI rejected the query: %s' % (doing, reason), kind='fault')
    if CODE_TIMED_OUT in codes or fault.subcode == 'TimedOut':
        return _operation_timeout_error(settings, doing)
    code = ' '.join(str(c) for c in (fault.wsman_code, fault.wmi_code) if c is not None)
    code = ' (code %s)' % code if code else ''
    return XProtectError('%sWS-Management fault %s%s: %s' % (doing, fault.subcode or 'without subcode', code, reason), kind='fault')


def _operation_timeout_error(settings, doing=''):
    seconds = getattr(settings, 'operation_timeout', None)
    return XProtectError('%sthe WinRM service did not finish the operation within operation_timeout%s: raise operation_timeout '
                         '(and connection_timeout above it) or check the load on the host'
                         % (doing, ' (%s s)' % seconds if seconds is not None else ''), kind='timeout')


def scrub(text, secret):
    """Replace every spelling of ``secret`` in ``text`` (raw, repr-escaped, URL-quoted)."""
    text = str(text)
    if not secret:
        return text
    secret = str(secret)
    for spelling in sorted({secret, repr(secret)[1:-1], url_quote(secret, safe=''), url_quote(secret)}, key=len, reverse=True):
        if spelling:
            text = text.replace(spelling, '********')
    return text


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
    error.message = scrub(error.message, getattr(settings, 'password', None))
    if error.service is not None:
        error.service = scrub(error.service, getattr(settings, 'password', None))
    return error


def _classify(exc, settings, what, namespace):
    if isinstance(exc, _FaultReply):
        return fault_error(exc.fault, settings, what, namespace)
    if isinstance(exc, XProtectError):
        return exc
    endpoint = getattr(settings, 'endpoint', None)
    secret = getattr(settings, 'password', None)
    doing = ('%s failed: ' % what) if what else ''
    if isinstance(exc, ET.ParseError):
        return _protocol_error('not well-formed XML')
    if not HAS_WINRM:
        return XProtectError('%s%s: %s' % (doing, type(exc).__name__, exc), kind='error')

    if isinstance(exc, requests.exceptions.SSLError):
        return XProtectError(
            'TLS handshake with the WinRM listener at %s failed (%s): if its certificate comes from a private CA, set ca_trust_path '
            '(ansible_winrm_ca_trust_path) to that CA\'s PEM file; only to skip verification set validate_certs: false '
            '(ansible_winrm_server_cert_validation: ignore)' % (endpoint, _short_reason(exc, secret)), kind='tls')
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout)):
        verb = 'connect to' if isinstance(exc, requests.exceptions.ConnectTimeout) else 'get an answer from'
        return XProtectError(
            'could not %s the WinRM listener at %s within connection_timeout (%s s): check that the host is up and not overloaded, '
            'or raise connection_timeout (ansible_winrm_read_timeout_sec)' % (verb, endpoint, getattr(settings, 'connection_timeout', '?')),
            kind='timeout')
    if isinstance(exc, requests.exceptions.ConnectionError) and _dropped(exc):
        return XProtectError(
            'the WinRM listener at %s closed the connection before answering: the host may be restarting or overloaded, or '
            'something in between drops connections; check the host, then run the task again' % endpoint, kind='unreachable')
    if isinstance(exc, requests.exceptions.ConnectionError):
        return XProtectError(
            'cannot connect to the WinRM listener at %s (%s): check ansible_host/ansible_port and that WinRM listens '
            '(winrm quickconfig)' % (endpoint, _short_reason(exc, secret)), kind='unreachable')
    if isinstance(exc, requests.exceptions.RequestException):
        return XProtectError('%sHTTP exchange with the WinRM listener at %s failed (%s: %s)'
                             % (doing, endpoint, type(exc).__name__, _short_reason(exc, secret)), kind='protocol')
    if isinstance(exc, winrm.exceptions.AuthenticationError):
        return _auth_error(exc, settings)
    if isinstance(exc, winrm.exceptions.WSManFaultError):
        return fault_error(_Fault.from_exception(exc), settings, what, namespace)
    if isinstance(exc, winrm.exceptions.WinRMOperationTimeoutError):
        return _operation_timeout_error(settings, doing)
    if isinstance(exc, winrm.exceptions.WinRMTransportError):
        hint = 'check ansible_winrm_path (normally /wsman)' if exc.code == 404 else 'see the Microsoft-Windows-WinRM/Operational event log on the host'
        return XProtectError('%sthe WinRM listener at %s answered HTTP %s without a SOAP reply: %s'
                             % (doing, endpoint, exc.code, hint), kind='protocol')
    if isinstance(exc, winrm.exceptions.WinRMError):
        text = ' '.join(str(exc).split())
        if 'not installed' in text:
            return XProtectError('%s: install the pywinrm extra for transport %s (pip install "pywinrm[%s]")'
                                 % (text, getattr(settings, 'transport', '?'), getattr(settings, 'transport', '?')), kind='invalid')
        return XProtectError('%s%s' % (doing, text), kind='invalid')
    if isinstance(exc, ImportError):
        return XProtectError('%sa Python library is missing (%s): install pywinrm with the extra for this transport' % (doing, exc),
                             kind='invalid')
    return XProtectError('%sunexpected %s from the WinRM client: %s' % (doing, type(exc).__name__, _short_reason(exc, secret)), kind='protocol')


def _auth_error(exc, settings):
    transport = getattr(settings, 'transport', None)
    reason = ' '.join(str(exc).split())
    if isinstance(exc, winrm.exceptions.BasicAuthDisabledError):
        return XProtectError('Basic authentication is disabled on the WinRM listener: use another transport or enable it '
                             '(winrm set winrm/config/service/auth @{Basic="true"})', kind='auth')
    if transport == 'certificate':
        return XProtectError('the WinRM listener rejected the client certificate (%s): check client_cert/client_key '
                             '(ansible_winrm_cert_pem/ansible_winrm_cert_key_pem) and the certificate mapping on the host' % reason, kind='auth')
    return XProtectError(
        "authentication as '%s' with transport %s failed (%s): check ansible_user/ansible_password (domain users as DOMAIN\\user or "
        'user@domain) and that the listener allows %s (winrm get winrm/config/service/auth)'
        % (getattr(settings, 'username', None), transport, reason, transport), kind='auth')


# ---------------------------------------------------------------------------------------------
# Building requests

def _xml_text(value):
    text = str(value)
    if _NOT_XML_CHAR.search(text):
        raise XProtectError('value %r holds characters XML cannot carry' % text[:80], kind='invalid')
    return text


def _to_xml(tag, value):
    """Serialise pywinrm's xmltodict-shaped dict ('@attr', '#text', 'prefix:child') with escaping."""
    if isinstance(value, list):
        return ''.join(_to_xml(tag, item) for item in value)
    attributes = []
    text = ''
    children = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith('@'):
                attributes.append(' %s=%s' % (key[1:], quoteattr(_xml_text(item))))
            elif key == '#text':
                text = escape(_xml_text(item))
            else:
                children.append(_to_xml(key, item))
    elif value is not None:
        text = escape(_xml_text(value))
    return '<%s%s>%s%s</%s>' % (tag, ''.join(attributes), text, ''.join(children), tag)


def _check(pattern, value, what):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise XProtectError('invalid WMI %s %r' % (what, value), kind='invalid')
    return value


def _class_uri(namespace, class_name):
    return '%s%s/%s' % (WMI_RESOURCE_BASE, _check(_NAMESPACE, namespace, 'namespace'), class_name)


def _wmi_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value


class WsmanClient:
    """WS-Management WMI operations against one host; counts the requests it sends in ``round_trips``."""

    def __init__(self, settings, protocol=None, max_pages=DEFAULT_MAX_PAGES, max_items=DEFAULT_MAX_ITEMS):
        self.settings = settings
        self.round_trips = 0
        self.max_pages = max_pages
        self.max_items = max_items
        self._protocol = protocol

    # -- public operations ----------------------------------------------------------------

    def enumerate(self, wql, namespace='root/cimv2'):
        """All instances a WQL query selects (Enumerate, then Pull until EndOfSequence, bounded)."""
        resource_uri = _class_uri(namespace, '*')
        # The discovery query is long; the start is enough to tell which query failed.
        what = 'WQL query "%s"' % (wql if len(wql) <= 100 else wql[:97] + '...')
        body = {'n:Enumerate': {
            'w:OptimizeEnumeration': None,
            'w:MaxElements': str(MAX_ELEMENTS),
            'w:Filter': {'@Dialect': WQL_DIALECT, '#text': wql},
        }}
        page = self._call(ACTION_ENUMERATE, resource_uri, body, parse_enumerate_response, what, namespace)
        items = list(page.items)
        pages = 1
        while not page.end_of_sequence:
            if pages >= self.max_pages or len(items) > self.max_items:
                break
            body = {'n:Pull': {'n:EnumerationContext': page.context, 'n:MaxElements': str(MAX_ELEMENTS)}}
            page = self._call(ACTION_PULL, resource_uri, body, parse_pull_response, what, namespace)
            items.extend(page.items)
            pages += 1
        if not page.end_of_sequence or len(items) > self.max_items:
            raise XProtectError('%s: the enumeration did not end after %d pages and %d items (limits %d pages, %d items): the WinRM '
                                'listener keeps sending pages; check the query or the host' % (what, pages, len(items), self.max_pages,
                                                                                               self.max_items),
                                host=self.settings.host, kind='protocol')
        return items

    def get(self, class_name, selectors, namespace='root/cimv2'):
        """One instance by its key properties (WS-Transfer Get)."""
        _check(_IDENTIFIER, class_name, 'class name')
        what = 'Get %s %s' % (class_name, ' '.join('%s=%r' % item for item in selectors.items()))
        return self._call(ACTION_GET, _class_uri(namespace, class_name), None, parse_get_response, what, namespace,
                          selectors=selectors, service=self._service(class_name, selectors))

    def invoke(self, class_name, method, selectors=None, params=None, namespace='root/cimv2'):
        """Call a WMI method; returns the <method>_OUTPUT properties (see return_value())."""
        _check(_IDENTIFIER, class_name, 'class name')
        _check(_IDENTIFIER, method, 'method name')
        resource_uri = _class_uri(namespace, class_name)
        arguments = {'@xmlns:p': resource_uri}
        for name, value in (params or {}).items():
            _check(_IDENTIFIER, name, 'parameter name')
            arguments['p:' + name] = {'@xsi:nil': 'true'} if value is None else _wmi_value(value)
        body = {'p:%s_INPUT' % method: arguments}
        what = '%s.%s' % (class_name, method)
        return self._call('%s/%s' % (resource_uri, method), resource_uri, body, lambda reply: parse_invoke_response(reply, method),
                          what, namespace, selectors=selectors, service=self._service(class_name, selectors))

    # -- plumbing -------------------------------------------------------------------------

    @staticmethod
    def _service(class_name, selectors):
        return (selectors or {}).get('Name') if class_name == 'Win32_Service' else None

    def _get_protocol(self):
        if self._protocol is None:
            self._protocol = self._build_protocol()
        return self._protocol

    def _build_protocol(self):
        settings = self.settings
        if not HAS_WINRM:
            raise XProtectError('the pywinrm Python library is required on the controller (pip install pywinrm)',
                                host=settings.host, kind='invalid')
        try:
            read_timeout = int(settings.connection_timeout)
            operation_timeout = int(settings.operation_timeout)
        except (TypeError, ValueError):
            raise XProtectError('connection_timeout and operation_timeout must be whole seconds', host=settings.host, kind='invalid') from None
        if operation_timeout < 1 or read_timeout <= operation_timeout:
            raise XProtectError('connection_timeout (%s s) must exceed operation_timeout (%s s), and both must be at least 1: the '
                                'listener may take operation_timeout to answer' % (read_timeout, operation_timeout),
                                host=settings.host, kind='invalid')
        options = {
            'transport': settings.transport,
            'username': settings.username,
            'password': settings.password,
            'server_cert_validation': 'validate' if settings.validate_certs else 'ignore',
            'cert_pem': settings.client_cert,
            'cert_key_pem': settings.client_key,
            'message_encryption': settings.message_encryption,
            'read_timeout_sec': read_timeout,
            'operation_timeout_sec': operation_timeout,
        }
        if settings.ca_trust_path:
            # Otherwise pywinrm keeps honouring REQUESTS_CA_BUNDLE, as Ansible's winrm connection does.
            options['ca_trust_path'] = settings.ca_trust_path
        try:
            return Protocol(settings.endpoint, **options)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # pywinrm validates its arguments with several exception types; all become XProtectError.
            raise to_xprotect_error(exc, settings, 'setting up the WinRM client') from None

    def _message(self, protocol, action, resource_uri, body, selectors):
        envelope = protocol.build_wsman_header(action, resource_uri)
        header = envelope[_HEADER]
        header['a:To'] = self.settings.endpoint
        if selectors:
            header['w:SelectorSet'] = {'w:Selector': [{'@Name': _check(_IDENTIFIER, name, 'selector name'), '#text': _wmi_value(value)}
                                                      for name, value in selectors.items()]}
        envelope[_BODY] = body
        return '<?xml version="1.0" encoding="utf-8"?>' + _to_xml(_ENVELOPE, envelope)

    def _call(self, action, resource_uri, body, parse, what, namespace, selectors=None, service=None):
        """namespace: the WMI namespace of resource_uri, which an access-denied error names."""
        protocol = self._get_protocol()
        message = self._message(protocol, action, resource_uri, body, selectors)
        self.round_trips += 1
        try:
            reply = protocol.send_message(message)
            return parse(reply)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # pywinrm, requests and its auth plugins raise many unrelated types; this is the one place they become
            # XProtectError. "from None": a chained exception could carry the password into a traceback.
            error = to_xprotect_error(exc, self.settings, what, namespace)
            if error.service is None and service:
                error.service = service
            raise error from None
