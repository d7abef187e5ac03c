# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WS-Management replies: parsing them, safely. No I/O here; requests are built in _wsman_build.

This is private to the collection: its interface may change without notice.

Replies are untrusted: no DTDs (so no entity expansion), bounded size and depth. A fault in a
reply body becomes FaultReply, whose kind is decided once, here, from Windows' codes; the
message the user reads is made where it is caught (_wsman_errors), with the operation and account.
"""

from __future__ import annotations

import codecs
import re
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wsman_build import NS_ENUMERATION, NS_TRANSFER

NS_SOAP = 'http://www.w3.org/2003/05/soap-envelope'
NS_ADDRESSING = 'http://schemas.xmlsoap.org/ws/2004/08/addressing'
NS_WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'
NS_WSMAN_FAULT = 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault'
NS_WMI_ERROR = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError'
DEFAULT_MAX_PAGES = 100
DEFAULT_MAX_ITEMS = 10000

# Limits on replies we are willing to parse (the largest real enumeration page is ~150 KB). The
# transport applies MAX_REPLY_CHARS to the bytes on the wire too, while they stream in.
MAX_REPLY_CHARS = 16 * 1024 * 1024
MAX_XML_DEPTH = 64
_FEED_CHUNK = 64 * 1024

# HRESULTs Windows puts in f:WSManFault/@Code or MSFT_WmiError/error_Code. Access denied comes
# as Win32 error 5, as its HRESULT 0x80070005, or as WMI's WBEM_E_ACCESS_DENIED 0x80041003.
CODES_ACCESS_DENIED = (5, 2147942405, 2147749891)
CODE_NOT_FOUND = 2150858752  # resource URI + selectors match nothing
CODE_CANNOT_PROCESS_FILTER = 2150858778
CODE_TIMED_OUT = 2150858793
# ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT (0x8033801B, wsmerror.h), with subcode
# wsen:InvalidEnumerationContext: what a Pull gets once the server dropped the enumeration ([MS-WSMAN],
# Enumeration Garbage Collection timer: after EnumerationTimeoutms without a Pull, the server MUST answer a
# Pull or Release with wsen:InvalidEnumerationContext; learn.microsoft.com/en-us/openspecs/windows_protocols/
# ms-wsman/0958650f-8612-40e6-8f15-9d585e90e91a).
CODE_INVALID_ENUMERATION_CONTEXT = 2150858779

_XML_DECLARATION = re.compile(r'\A\s*<\?xml[^>]*\?>')
# A document type declaration or an entity declaration, however spelt: refused before any parser sees it.
_DTD = re.compile(r'<!\s*(DOCTYPE|ENTITY)', re.IGNORECASE)


class EnumerationPage(t.NamedTuple):
    """One EnumerateResponse or PullResponse."""

    items: list
    context: t.Optional[str]
    end_of_sequence: bool


def setting_hint(settings: t.Any, option: str) -> str:
    """The option as a hint names it: 'connection_timeout (ansible_psrp_read_timeout)' on a psrp host, the option alone without settings."""
    name = getattr(settings, 'setting_name', None)
    return name(option) if name else option


class ProtocolError(XProtectError):
    """A reply that is not what a WinRM listener sends; ``detail`` says how. The client names the host's settings."""

    def __init__(self, detail: str, settings: t.Any = None) -> None:
        super().__init__(
            'unexpected reply from the WinRM listener (%s): check that %s and %s point at a Windows WinRM listener '
            'and that nothing in between rewrites its answers' % (detail, setting_hint(settings, 'host'), setting_hint(settings, 'port')),
            kind=errors.PROTOCOL,
        )
        self.detail = detail


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
            raise ProtocolError('not valid %s text' % encoding) from None
    elif isinstance(xml, str):
        text = xml
    else:
        raise ProtocolError('no XML text')
    return text.lstrip('\ufeff')


def has_dtd(text: str) -> bool:
    """Does decoded reply text hold a document type or entity declaration?"""
    return _DTD.search(text) is not None


DTD_REFUSED = 'document type declarations are refused'


def _parse_xml(xml):
    """Parse untrusted XML: no DTDs (so no entity expansion), bounded size and depth."""
    text = _decode(xml)
    if not text.strip():
        raise ProtocolError('empty reply')
    if len(text) > MAX_REPLY_CHARS:
        raise ProtocolError('reply larger than %d characters' % MAX_REPLY_CHARS)
    if has_dtd(text):
        raise ProtocolError(DTD_REFUSED)
    # The text is already decoded: an encoding declaration would only mislead the parser.
    text = _XML_DECLARATION.sub('', text, count=1)

    parser: ET.XMLPullParser[t.Any] = ET.XMLPullParser(events=('start', 'end'))
    root = None
    depth = 0
    try:
        for offset in range(0, len(text), _FEED_CHUNK):
            parser.feed(text[offset : offset + _FEED_CHUNK])
            for event, element in t.cast(t.Iterator[t.Tuple[str, t.Any]], parser.read_events()):
                if event == 'start':
                    depth += 1
                    if root is None:
                        root = element
                    if depth > MAX_XML_DEPTH:
                        raise ProtocolError('XML nested deeper than %d levels' % MAX_XML_DEPTH)
                else:
                    depth -= 1
        parser.close()
    except (ET.ParseError, ValueError, UnicodeError) as exc:
        raise ProtocolError('not well-formed XML: %s' % exc) from None
    if root is None:
        raise ProtocolError('no XML element')
    return root


def _soap_body(xml):
    """The s:Body of a SOAP envelope; a fault in it becomes XProtectError."""
    return _envelope_body(_parse_xml(xml))


def _envelope_body(root):
    if root.tag != '{%s}Envelope' % NS_SOAP:
        raise ProtocolError('root element is %s, not a SOAP 1.2 Envelope' % _split_tag(root.tag)[1])
    body = root.find('{%s}Body' % NS_SOAP)
    if body is None:
        raise ProtocolError('SOAP envelope without Body')
    fault = body.find('{%s}Fault' % NS_SOAP)
    if fault is not None:
        raise FaultReply(Fault.from_element(fault))
    return body


def raise_error_reply(data: t.Union[str, bytes]) -> None:
    """The body of an HTTP error answer (4xx/5xx): raise FaultReply for a SOAP fault, XProtectError for a DTD.

    Returns when the body is something else (HTML, text, empty), for the caller to report the status.
    pywinrm parses such bodies itself with ElementTree; only bodies that pass here reach it.
    """
    try:
        text = _decode(data)
    except XProtectError:
        return
    if has_dtd(text):
        raise ProtocolError(DTD_REFUSED)
    try:
        root = _parse_xml(text)
        if root.tag == '{%s}Envelope' % NS_SOAP:
            _envelope_body(root)
    except FaultReply:
        raise
    except XProtectError:
        return


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
    if element.find('{%s}ReferenceParameters' % NS_ADDRESSING) is not None:
        return _reference(element)
    # An embedded instance.
    return _properties(children, {}, namespace=None)


def _reference(element):
    """A reference property (an endpoint reference: Win32_DependentService's Antecedent) as {'__class__', key: value}."""
    uri = element.findtext('{%s}ReferenceParameters/{%s}ResourceURI' % (NS_ADDRESSING, NS_WSMAN)) or ''
    selectors = {selector.get('Name'): selector.text or '' for selector in element.iter('{%s}Selector' % NS_WSMAN)}
    return dict(selectors, __class__=uri.strip().rsplit('/', 1)[-1])


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
        raise ProtocolError('no %s in the SOAP body' % response_name)
    context_element = response.find('{%s}EnumerationContext' % NS_ENUMERATION)
    context = None
    if context_element is not None:
        # Server 2003 sends an empty context together with w:EndOfSequence.
        context = (context_element.text or '').strip() or None
    end = _child(response, 'EndOfSequence', (NS_WSMAN, NS_ENUMERATION)) is not None
    items_element = _child(response, 'Items', items_namespaces)
    items = [_instance(item) for item in items_element if isinstance(item.tag, str)] if items_element is not None else []
    if not end and context is None:
        raise ProtocolError('%s has neither EnumerationContext nor EndOfSequence' % response_name)
    return EnumerationPage(items=items, context=context, end_of_sequence=end)


def parse_enumerate_response(xml: t.Union[str, bytes]) -> EnumerationPage:
    """EnumerateResponse -> EnumerationPage (first items come in w:Items with OptimizeEnumeration)."""
    return _page(_soap_body(xml), 'EnumerateResponse', (NS_WSMAN, NS_ENUMERATION))


def parse_pull_response(xml: t.Union[str, bytes]) -> EnumerationPage:
    """PullResponse -> EnumerationPage (items in n:Items; the last page has n:EndOfSequence)."""
    return _page(_soap_body(xml), 'PullResponse', (NS_ENUMERATION, NS_WSMAN))


def parse_get_response(xml: t.Union[str, bytes]) -> t.Dict[str, t.Any]:
    """GetResponse -> the instance's properties."""
    body = _soap_body(xml)
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise ProtocolError('GetResponse body holds %d elements instead of one instance' % len(elements))
    if _split_tag(elements[0].tag)[0] in (NS_SOAP, NS_ADDRESSING, NS_ENUMERATION, NS_TRANSFER):
        raise ProtocolError('GetResponse body holds %s instead of an instance' % _split_tag(elements[0].tag)[1])
    return _instance(elements[0])


def parse_invoke_response(xml: t.Union[str, bytes], method: str) -> t.Dict[str, t.Any]:
    """Invoke response -> the properties of <method>_OUTPUT (ReturnValue stays a string)."""
    body = _soap_body(xml)
    wanted = '%s_OUTPUT' % method
    for child in body:
        if isinstance(child.tag, str) and _split_tag(child.tag)[1] == wanted:
            return _instance(child, with_class=False)
    raise ProtocolError('no %s in the SOAP body' % wanted)


def return_value(output: t.Any) -> int:
    """The integer ReturnValue of an invoke() result."""
    value: t.Any = output.get('ReturnValue') if isinstance(output, dict) else None
    try:
        return int(value.strip())
    except (AttributeError, ValueError):
        raise ProtocolError('method output without an integer ReturnValue') from None


# ---------------------------------------------------------------------------------------------
# Faults


class Fault:
    """The parts of a WS-Management fault the error mapping looks at; ``kind`` is decided here, once."""

    def __init__(
        self,
        subcode: t.Optional[str] = None,
        reason: t.Optional[str] = None,
        wsman_code: t.Any = None,
        wmi_code: t.Any = None,
        detail: t.Optional[str] = None,
    ) -> None:
        self.subcode = _local_name(subcode)
        # Kept longer than a message shows: fault_error() scrubs the secrets first, then cuts to MAX_FAULT_TEXT.
        self.reason = _bounded(reason)
        self.wsman_code = wsman_code
        self.wmi_code = wmi_code
        self.detail = _bounded(detail)
        self.kind = self._classify()

    @property
    def invalid_enumeration_context(self) -> bool:
        """The enumeration context a Pull named is gone (expired, or the server restarted)."""
        return self.subcode == 'InvalidEnumerationContext' or CODE_INVALID_ENUMERATION_CONTEXT in (self.wsman_code, self.wmi_code)

    def _classify(self):
        codes = {self.wsman_code, self.wmi_code}
        if codes & set(CODES_ACCESS_DENIED) or self.subcode == 'AccessDenied':
            return errors.ACCESS_DENIED
        if CODE_NOT_FOUND in codes or self.subcode == 'DestinationUnreachable':
            return errors.NOT_FOUND
        if CODE_TIMED_OUT in codes or self.subcode == 'TimedOut':
            return errors.TIMEOUT
        return errors.FAULT

    @classmethod
    def from_element(cls, fault: ET.Element) -> Fault:
        subcode = fault.find('{0}Code/{0}Subcode/{0}Value'.format('{%s}' % NS_SOAP))
        reason = fault.find('{0}Reason/{0}Text'.format('{%s}' % NS_SOAP))
        wsman_fault = fault.find('{%s}Detail/{%s}WSManFault' % (NS_SOAP, NS_WSMAN_FAULT))
        wmi_code = fault.find('{%s}Detail/{%s}MSFT_WmiError/{%s}error_Code' % (NS_SOAP, NS_WMI_ERROR, NS_WMI_ERROR))
        return cls(
            subcode=subcode.text if subcode is not None else None,
            reason=reason.text if reason is not None else None,
            wsman_code=_int_or_none(wsman_fault.get('Code') if wsman_fault is not None else None),
            wmi_code=_int_or_none(wmi_code.text if wmi_code is not None else None),
            detail=_innermost_message(fault),
        )

    @classmethod
    def from_exception(cls, exc: t.Any) -> Fault:
        """From pywinrm's WSManFaultError, plus the provider's own message from the raw reply."""
        detail = None
        if exc.response:
            try:
                detail = _innermost_message(_parse_xml(exc.response))
            except XProtectError:
                detail = None
        return cls(subcode=exc.fault_subcode, reason=exc.reason, wsman_code=exc.wsman_fault_code, wmi_code=exc.wmierror_code, detail=detail)


# Windows' fault texts can be long; a server that echoes input back could make them huge.
MAX_FAULT_TEXT = 300
_FAULT_TEXT_KEPT = 16 * MAX_FAULT_TEXT


def _bounded(text):
    text = ' '.join((text or '').split())
    return text[:_FAULT_TEXT_KEPT]


class FaultReply(XProtectError):
    """A fault from the server, with the Fault it came from (``fault``).

    Raised by the parsers with a bare message; the client's error mapping (_wsman_errors.fault_error)
    makes the one the user sees, with the operation and the account.
    """

    def __init__(self, fault: Fault, message: t.Optional[str] = None) -> None:
        if message is None:
            code = ' '.join(str(c) for c in (fault.wsman_code, fault.wmi_code) if c is not None)
            message = 'WS-Management fault %s%s: %s' % (
                fault.subcode or 'without subcode',
                ' (code %s)' % code if code else '',
                (fault.detail or fault.reason or 'no reason given')[:MAX_FAULT_TEXT],
            )
        super().__init__(message, kind=fault.kind)
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
