# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SOAP plumbing of the simulated WinRM service: read a request envelope, write replies and faults.

Replies are built as text, not with ElementTree, so that prefixes, namespace declarations and
element order come out exactly as Windows writes them (see tests/fixtures/winrm-captures/ in the repository).
"""

from __future__ import annotations

import datetime
import typing as t
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS_SOAP = 'http://www.w3.org/2003/05/soap-envelope'
NS_ADDRESSING = 'http://schemas.xmlsoap.org/ws/2004/08/addressing'
NS_ENUMERATION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration'
NS_TRANSFER = 'http://schemas.xmlsoap.org/ws/2004/09/transfer'
NS_EVENTING = 'http://schemas.xmlsoap.org/ws/2004/08/eventing'
NS_WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'
NS_MS_WSMAN = 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd'
NS_FAULT = 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault'
NS_XSI = 'http://www.w3.org/2001/XMLSchema-instance'
NS_CIM_COMMON = 'http://schemas.dmtf.org/wbem/wscim/1/common'

ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous'
WQL_DIALECT = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'
WMI_BASE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/'
FAULT_DETAIL = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/'

ACTION_ENUMERATE = NS_ENUMERATION + '/Enumerate'
ACTION_PULL = NS_ENUMERATION + '/Pull'
ACTION_RELEASE = NS_ENUMERATION + '/Release'
ACTION_GET = NS_TRANSFER + '/Get'

# The fault actions Windows uses, by the specification the subcode comes from.
FAULT_ACTION_ADDRESSING = NS_ADDRESSING + '/fault'
FAULT_ACTION_ENUMERATION = NS_ENUMERATION + '/fault'
FAULT_ACTION_WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault'

WMI_PROVIDER = ('WMI Provider', '%systemroot%\\system32\\WsmWmiPl.dll')

# Namespace declarations on the envelope, per kind of reply (as in the captures).
_ENVELOPE_NAMESPACES = {
    'enumeration': (('s', NS_SOAP), ('a', NS_ADDRESSING), ('n', NS_ENUMERATION), ('w', NS_WSMAN)),
    'transfer': (('s', NS_SOAP), ('a', NS_ADDRESSING), ('x', NS_TRANSFER), ('w', NS_WSMAN), ('p', NS_MS_WSMAN)),
    'fault': (
        ('s', NS_SOAP),
        ('a', NS_ADDRESSING),
        ('x', NS_TRANSFER),
        ('e', NS_EVENTING),
        ('n', NS_ENUMERATION),
        ('w', NS_WSMAN),
        ('p', NS_MS_WSMAN),
    ),
}


def new_uuid() -> str:
    """A 'uuid:...' identifier in Windows' upper-case spelling."""
    return 'uuid:' + str(uuid.uuid4()).upper()


def text(value: object) -> str:
    """A property value as WMI writes it in XML (booleans lower case; a carriage return as a reference, which XML
    parsers would otherwise turn into a line feed: the event log's texts have CR LF line ends)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return escape(str(value), {'\r': '&#xD;'})


class Fault(Exception):
    """A WS-Management fault; raise it anywhere while handling a request, render() writes the reply."""

    def __init__(
        self,
        subcode: str,
        hresult: int,
        reason: str,
        action: str = FAULT_ACTION_WSMAN,
        code: str = 's:Sender',
        detail: str | None = None,
        provider: tuple[str, str] | None = None,
        provider_message: str | None = None,
        extended_status: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.subcode = subcode  # e.g. 'w:InvalidSelectors' (prefix declared on the fault envelope)
        self.hresult = hresult  # decimal HRESULT for f:WSManFault/@Code
        self.reason = reason  # Windows' message text, trailing space included
        self.action = action
        self.code = code  # 's:Sender' or 's:Receiver'
        self.detail = detail  # w:FaultDetail name under FAULT_DETAIL, or None
        self.provider = provider  # (name, dll path) when a provider (WMI) raised it, else None
        self.provider_message = provider_message or reason  # the provider's own text, nested in f:ProviderFault
        self.extended_status = extended_status  # {Operation, ParameterInfo, ProviderName} of WMI's __ExtendedStatus
        self.relates_to: str | None = None  # the request's MessageID, once known

    def render(self, machine: str, relates_to: str | None = None) -> str:
        """The fault envelope (text); relates_to defaults to the MessageID recorded while parsing."""
        relates_to = relates_to or self.relates_to
        wsman_fault = '<f:WSManFault xmlns:f="%s" Code="%d" Machine=%s>' % (NS_FAULT, self.hresult, quoteattr(machine))
        if self.provider:
            inner = wsman_fault + '<f:Message>%s</f:Message></f:WSManFault>' % escape(self.provider_message)
            if self.extended_status:
                inner += '<f:ExtendedError>%s</f:ExtendedError>' % _extended_status(self.extended_status)
            message = '<f:ProviderFault provider=%s path=%s>%s</f:ProviderFault>' % (
                quoteattr(self.provider[0]),
                quoteattr(self.provider[1]),
                inner,
            )
        else:
            message = escape(self.reason)
        detail = '<w:FaultDetail>%s%s</w:FaultDetail>' % (FAULT_DETAIL, self.detail) if self.detail else ''
        body = (
            '<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>'
            '<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason>'
            '<s:Detail>%s%s<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>'
            % (self.code, self.subcode, escape(self.reason), detail, wsman_fault, message)
        )
        return envelope('fault', self.action, relates_to, body)


def _extended_status(status):
    """WMI's __ExtendedStatus as Windows Server 2012 R2 and later write it (typed cim: values)."""
    uri = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/__ExtendedStatus'
    return (
        '<p:__ExtendedStatus xmlns:xsi="%s" xmlns:p="%s" xmlns:cim="%s" xsi:type="p:__ExtendedStatus_Type">'
        '<p:Description xsi:nil="true" xsi:type="cim:cimString"/>'
        '<p:Operation xsi:type="cim:cimString">%s</p:Operation>'
        '<p:ParameterInfo xsi:type="cim:cimString">%s</p:ParameterInfo>'
        '<p:ProviderName xsi:type="cim:cimString">%s</p:ProviderName>'
        '<p:StatusCode xsi:nil="true" xsi:type="cim:cimUnsignedInt"/></p:__ExtendedStatus>'
        % (NS_XSI, uri, NS_CIM_COMMON, escape(status['Operation']), escape(status['ParameterInfo']), escape(status['ProviderName']))
    )


def envelope(kind: str, action: str, relates_to: str | None, body: str, operation_id: str | None = None) -> str:
    """A reply envelope; kind picks the namespace set ('enumeration', 'transfer' or 'fault')."""
    namespaces = _ENVELOPE_NAMESPACES[kind]
    if operation_id and all(prefix != 'p' for prefix, _uri in namespaces):
        namespaces += (('p', NS_MS_WSMAN),)
    declarations = ''.join(' xmlns:%s="%s"' % pair for pair in namespaces)
    header = '<a:Action>%s</a:Action><a:MessageID>%s</a:MessageID><a:To>%s</a:To>' % (escape(action), new_uuid(), ANONYMOUS)
    if operation_id:
        # Windows echoes the client's OperationID (MS-WSMV) and numbers its replies to it.
        header += '<p:OperationID s:mustUnderstand="false">%s</p:OperationID><p:SequenceId>1</p:SequenceId>' % escape(operation_id)
    if relates_to:
        header += '<a:RelatesTo>%s</a:RelatesTo>' % escape(relates_to)
    return '<s:Envelope xml:lang="en-US"%s><s:Header>%s</s:Header><s:Body>%s</s:Body></s:Envelope>' % (declarations, header, body)


def _property_xml(tag, value, datetime_tag):
    """One property as WinRM writes it: nulls (and empty arrays) as xsi:nil, arrays as the element repeated, datetimes
    as xs:dateTime inside a cim:Datetime element (e.g. <p:CreationDate><cim:Datetime>2014-04-03T14:45:50.46875+08:00...)."""
    if value is None or value == []:
        return '<%s xsi:nil="true"/>' % tag
    if isinstance(value, list):
        return ''.join(_property_xml(tag, item, datetime_tag) for item in value)
    if isinstance(value, datetime.datetime):
        stamp = value.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
        return '<%s><%s>%s</%s></%s>' % (tag, datetime_tag, stamp, datetime_tag, tag)
    return '<%s>%s</%s>' % (tag, text(value), tag)


def instance_xml(class_uri: str, class_name: str, properties: t.Iterable[tuple[str, object]]) -> str:
    """A WMI instance (SELECT *, Get): p:<Class> with every property p:-qualified, nulls as xsi:nil."""
    parts = [
        '<p:%s xmlns:xsi="%s" xmlns:p="%s" xmlns:cim="%s" xsi:type="p:%s_Type">'
        % (class_name, NS_XSI, class_uri, NS_CIM_COMMON, class_name)
    ]
    parts.extend(_property_xml('p:' + name, value, 'cim:Datetime') for name, value in properties)
    parts.append('</p:%s>' % class_name)
    return ''.join(parts)


def fragment_xml(properties: t.Iterable[tuple[str, object]]) -> str:
    """A projected WMI instance (SELECT a, b): w:XmlFragment with unqualified children."""
    parts = ['<w:XmlFragment xmlns:xsi="%s" xmlns:w="%s">' % (NS_XSI, NS_WSMAN)]
    parts.extend(_property_xml(name, value, 'Datetime') for name, value in properties)
    parts.append('</w:XmlFragment>')
    return ''.join(parts)


def method_output_xml(class_uri: str, method: str, outputs: t.Iterable[tuple[str, object]]) -> str:
    """p:<Method>_OUTPUT of a WMI method call (outputs: [(name, value)], ReturnValue among them)."""
    parts = ['<p:%s_OUTPUT xmlns:xsi="%s" xmlns:p="%s" xmlns:cim="%s">' % (method, NS_XSI, class_uri, NS_CIM_COMMON)]
    parts.extend('<p:%s>%s</p:%s>' % (name, text(value), name) for name, value in outputs)
    parts.append('</p:%s_OUTPUT>' % method)
    return ''.join(parts)


@dataclass
class Request:
    """The parts of a WS-Management request the simulator acts on."""

    action: str
    message_id: str
    resource_uri: str
    body: ET.Element  # s:Body
    selectors: dict = field(default_factory=dict)  # name as sent -> value
    operation_id: str | None = None
    max_envelope_size: int | None = None


def _schema_error(what):
    return Fault(
        'w:SchemaValidationError',
        2150858817,
        'The SOAP XML in the message does not match the corresponding XML schema definition. %s ' % what,
    )


def parse_request(data: bytes | str) -> Request:
    """A Request from the HTTP body (UTF-8 or UTF-16 with BOM); raises Fault for anything Windows would refuse."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise Fault(
            'w:SchemaValidationError', 2150858819, 'The WS-Management service cannot process the request because the XML is invalid. '
        ) from None
    if root.tag != '{%s}Envelope' % NS_SOAP:
        raise Fault(
            'w:SchemaValidationError',
            2150858817,
            'The WS-Management service cannot process the request. The request is not a SOAP 1.2 envelope. ',
        )
    header = root.find('{%s}Header' % NS_SOAP)
    body = root.find('{%s}Body' % NS_SOAP)
    if header is None or body is None:
        raise _schema_error('The envelope needs an s:Header and an s:Body.')
    action = _header_text(header, NS_ADDRESSING, 'Action')
    message_id = _header_text(header, NS_ADDRESSING, 'MessageID')
    if not action or not message_id:
        raise Fault(
            'a:MessageInformationHeaderRequired',
            2150858769,
            'The WS-Management service cannot process the request. The request does not have all the expected SOAP headers. ',
            action=FAULT_ACTION_ADDRESSING,
        )
    try:
        return _request(header, body, action, message_id)
    except Fault as fault:
        fault.relates_to = message_id
        raise


def _request(header, body, action, message_id):
    resource_uri = _header_text(header, NS_WSMAN, 'ResourceURI')
    if not resource_uri:
        raise Fault(
            'a:DestinationUnreachable',
            2150858811,
            'The WS-Management service cannot process the request. The resource URI is missing or it has an incorrect format. ',
            action=FAULT_ACTION_ADDRESSING,
            detail='InvalidResourceURI',
        )
    request = Request(
        action=action,
        message_id=message_id,
        resource_uri=resource_uri,
        body=body,
        operation_id=_header_text(header, NS_MS_WSMAN, 'OperationID'),
    )
    size = _header_text(header, NS_WSMAN, 'MaxEnvelopeSize')
    if size:
        request.max_envelope_size = parse_count(size, 'MaxEnvelopeSize')
    selector_set = header.find('{%s}SelectorSet' % NS_WSMAN)
    if selector_set is not None:
        for selector in selector_set.findall('{%s}Selector' % NS_WSMAN):
            name = selector.get('Name')
            if not name or name in request.selectors:
                raise Fault(
                    'w:InvalidSelectors',
                    2150858847,
                    'The WS-Management service cannot process the request because the request contains duplicate selectors. ',
                    detail='DuplicateSelectors',
                )
            request.selectors[name] = selector.text or ''
    return request


def _header_text(header, namespace, name):
    element = header.find('{%s}%s' % (namespace, name))
    return (element.text or '').strip() if element is not None else None


def parse_count(value: str | None, what: str) -> int:
    """A positive element count or size from the request; a schema fault otherwise."""
    try:
        number = int(value.strip())  # type: ignore[union-attr]  # None: AttributeError, caught below
    except (AttributeError, ValueError):
        number = 0
    if number < 1:
        raise _schema_error('%s must be a positive integer.' % what)
    return number


def child(element: ET.Element | None, namespace: str, name: str) -> ET.Element | None:
    return element.find('{%s}%s' % (namespace, name)) if element is not None else None


def local_name(tag: str) -> str:
    return tag.rsplit('}', 1)[-1]


def is_nil(element: ET.Element) -> bool:
    return element.get('{%s}nil' % NS_XSI) in ('true', '1')


def build_request(
    action: str,
    resource_uri: str,
    body: str = '',
    selectors: t.Mapping[str, object] | None = None,
    message_id: str | None = None,
    operation_id: str | None = None,
    max_envelope_size: int = 153600,
) -> bytes:
    """A request envelope as a WinRM client sends it (for tests of the simulator and its listener). body is XML text."""
    header = [
        '<a:Action s:mustUnderstand="true">%s</a:Action>' % escape(action),
        '<a:MessageID>%s</a:MessageID>' % escape(message_id or new_uuid()),
        '<a:ReplyTo><a:Address s:mustUnderstand="true">%s</a:Address></a:ReplyTo>' % ANONYMOUS,
        '<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>' % escape(resource_uri),
        '<w:MaxEnvelopeSize s:mustUnderstand="true">%d</w:MaxEnvelopeSize>' % max_envelope_size,
        '<w:OperationTimeout>PT20S</w:OperationTimeout>',
    ]
    if operation_id:
        header.append('<p:OperationID s:mustUnderstand="false">%s</p:OperationID>' % escape(operation_id))
    if selectors:
        header.append(
            '<w:SelectorSet>%s</w:SelectorSet>'
            % ''.join('<w:Selector Name=%s>%s</w:Selector>' % (quoteattr(name), escape(str(value))) for name, value in selectors.items())
        )
    return (
        '<s:Envelope xmlns:s="%s" xmlns:a="%s" xmlns:n="%s" xmlns:w="%s" xmlns:p="%s" xmlns:xsi="%s"><s:Header>%s</s:Header>'
        '<s:Body>%s</s:Body></s:Envelope>' % (NS_SOAP, NS_ADDRESSING, NS_ENUMERATION, NS_WSMAN, NS_MS_WSMAN, NS_XSI, ''.join(header), body)
    ).encode('utf-8')


def enumerate_body(wql: str | None = None, optimize: bool = True, max_elements: int | None = None) -> str:
    """An n:Enumerate body: a WQL filter when given, OptimizeEnumeration and MaxElements as asked."""
    parts = ['<w:OptimizeEnumeration/>' if optimize else '']
    if max_elements is not None:
        parts.append('<w:MaxElements>%d</w:MaxElements>' % max_elements)
    if wql is not None:
        parts.append('<w:Filter Dialect="%s">%s</w:Filter>' % (WQL_DIALECT, escape(wql)))
    return '<n:Enumerate>%s</n:Enumerate>' % ''.join(parts)


def pull_body(context: str, max_elements: int | None = None) -> str:
    """An n:Pull body for an enumeration context."""
    count = '<n:MaxElements>%d</n:MaxElements>' % max_elements if max_elements is not None else ''
    return '<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>%s</n:Pull>' % (escape(context), count)
