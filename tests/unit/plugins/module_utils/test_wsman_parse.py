# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The reply parsers against real Windows captures and against hostile input."""

from __future__ import annotations

import codecs

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _wsman_errors, _wsman_xml
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import (
    XProtectError,
    parse_enumerate_response,
    parse_get_response,
    parse_invoke_response,
    parse_pull_response,
    return_value,
)

STAR_PAGES = [
    (
        'enumerate-win32_service-wql-star-ws2012-1-enumerate-response.xml',
        parse_enumerate_response,
        1,
        'uuid:6C0AB864-47F9-4D3E-8601-B786754BBABB',
        False,
    ),
    (
        'enumerate-win32_service-wql-star-ws2012-2-pull-response.xml',
        parse_pull_response,
        50,
        'uuid:69C1232D-0042-447B-BBA4-F6DD9324B110',
        False,
    ),
    (
        'enumerate-win32_service-wql-star-ws2012-3-pull-response.xml',
        parse_pull_response,
        52,
        'uuid:5F1294CE-8E09-46E7-BC4F-5ECBC9A0F353',
        False,
    ),
    ('enumerate-win32_service-wql-star-ws2012-4-pull-response-endofsequence.xml', parse_pull_response, 28, None, True),
]
WS2003 = 'enumerate-win32_service-wql-star-ws2003-single-enumerate-response.xml'
LOGICAL_DISK = 'get-win32_logicaldisk-response.xml'


def expect_protocol_error(parse, data):
    with pytest.raises(XProtectError) as caught:
        parse(data)
    assert caught.value.kind == 'protocol'
    assert 'unexpected reply from the WinRM listener' in str(caught.value)
    return caught.value


@pytest.mark.parametrize('name, parse, count, context, end', STAR_PAGES)
def test_star_enumeration_pages(capture, name, parse, count, context, end):
    page = parse(capture(name))
    assert len(page.items) == count
    assert page.context == context
    assert page.end_of_sequence is end
    # SELECT * FROM Win32_Service also returns subclass instances (TermService is a Win32_TerminalService).
    assert {item['__class__'] for item in page.items} <= {'Win32_Service', 'Win32_TerminalService'}
    assert all(item['Name'] and item['State'] in ('Running', 'Stopped') for item in page.items)


def test_star_enumeration_gives_131_services(capture):
    services = {}
    for name, parse, _count, _context, _end in STAR_PAGES:
        for item in parse(capture(name)).items:
            services[item['Name']] = item
    assert len(services) == 131
    assert sum(1 for s in services.values() if s['State'] == 'Running') == 50
    assert sum(1 for s in services.values() if s['State'] == 'Stopped') == 81
    assert (services['WinRM']['State'], services['WinRM']['StartMode'], services['WinRM']['ProcessId']) == ('Running', 'Auto', '972')
    assert (services['W32Time']['State'], services['W32Time']['StartMode']) == ('Stopped', 'Manual')
    assert services['AeLookupSvc']['PathName'] == r'C:\Windows\system32\svchost.exe -k netsvcs'
    assert services['AeLookupSvc']['InstallDate'] is None
    assert services['AeLookupSvc']['AcceptStop'] == 'false'
    assert 'DelayedAutoStart' not in services['WinRM']
    assert [name for name, item in services.items() if item['__class__'] != 'Win32_Service'] == ['TermService']
    assert services['TermService']['State'] == 'Running'


def test_xmlfragment_pages(capture):
    first = parse_enumerate_response(capture('enumerate-win32_service-wql-props-ws2012-1-enumerate-response-xmlfragment.xml'))
    assert first.context == 'uuid:24D6AF3D-00C4-4148-9C07-336C5B7DCACE' and not first.end_of_sequence
    assert first.items[0]['Name'] == 'AeLookupSvc'
    assert first.items[0]['InstallDate'] is None
    assert '__class__' not in first.items[0]

    last = parse_pull_response(capture('enumerate-win32_service-wql-props-ws2012-4-pull-response-xmlfragment-endofsequence.xml'))
    assert last.end_of_sequence and last.context is None
    assert [(i['Name'], i['State']) for i in last.items][:4] == [
        ('WerSvc', 'Stopped'),
        ('WinHttpAutoProxySvc', 'Running'),
        ('Winmgmt', 'Running'),
        ('WinRM', 'Running'),
    ]
    assert len(last.items) == 10


def test_ws2003_single_response_ends_with_wsman_end_of_sequence(capture):
    page = parse_enumerate_response(capture(WS2003))
    assert page.end_of_sequence is True
    assert page.context is None  # the empty n:EnumerationContext
    assert len(page.items) == 104
    names = {item['Name']: item for item in page.items}
    assert names['Spooler']['State'] == 'Running'
    assert (page.items[0]['Name'], page.items[-1]['Name']) == ('AeLookupSvc', 'xmlprov')


def test_get_logical_disk_with_nils(capture):
    disk = parse_get_response(capture(LOGICAL_DISK))
    assert disk['__class__'] == 'Win32_LogicalDisk'
    assert disk['DeviceID'] == 'c:'
    assert disk['FreeSpace'] == '840649814016'
    assert disk['Availability'] is None and disk['Status'] is None
    assert disk['VolumeName'] == ''  # empty, not nil
    assert disk['QuotasDisabled'] == 'true'


def test_get_spooler_doc_body_in_an_envelope(capture):
    # The doc wraps lines mid-token; its xsi namespace was rewritten to https (nil must still be seen).
    body = b''.join(capture('get-win32_service-spooler-body-msdocs.xml').splitlines())
    reply = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body>' + body + b'</s:Body></s:Envelope>'
    service = parse_get_response(reply)
    assert (service['__class__'], service['Name'], service['State'], service['StartMode']) == (
        'Win32_Service',
        'spooler',
        'Running',
        'Auto',
    )
    assert service['InstallDate'] is None
    assert 'Location' not in service  # cim:Location is metadata, not a property


def test_invoke_delete_return_value(capture):
    output = parse_invoke_response(capture('invoke-cim_datafile-delete-response.xml'), 'Delete')
    assert output == {'ReturnValue': '0'}
    assert return_value(output) == 0


def test_invoke_create_with_editorial_whitespace(capture):
    output = parse_invoke_response(capture('invoke-win32_process-create-response-msdocs-example.xml'), 'Create')
    assert output == {'ProcessId': '4000', 'ReturnValue': '0'}
    assert return_value(output) == 0


def test_invoke_reply_for_another_method_is_refused(capture):
    error = expect_protocol_error(
        lambda data: parse_invoke_response(data, 'StartService'), capture('invoke-cim_datafile-delete-response.xml')
    )
    assert 'StartService_OUTPUT' in str(error)


@pytest.mark.parametrize('output', [{}, {'ReturnValue': None}, {'ReturnValue': 'x'}, None])
def test_return_value_needs_an_integer(output):
    with pytest.raises(XProtectError) as caught:
        return_value(output)
    assert caught.value.kind == 'protocol'


@pytest.mark.parametrize(
    'encoding, bom',
    [('utf-16-le', codecs.BOM_UTF16_LE), ('utf-16-be', codecs.BOM_UTF16_BE), ('utf-8', codecs.BOM_UTF8), ('utf-16-le', b'')],
)
def test_utf16_and_bom_replies(capture, encoding, bom):
    text = capture(LOGICAL_DISK).decode('utf-8')
    data = bom + ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode(encoding)
    assert parse_get_response(data) == parse_get_response(capture(LOGICAL_DISK))


def test_str_input_is_accepted(capture):
    assert parse_enumerate_response(capture(WS2003).decode('utf-8')).end_of_sequence


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol2;</s:Body></s:Envelope>'
)


@pytest.mark.parametrize(
    'data',
    [
        b'',
        b'   ',
        None,
        42,
        b'\xff\xfe\x00',
        b'\x80\x81not utf8',
        b'HTTP/1.1 500\r\n\r\n<html>',
        '<html><body>busy</body></html>',
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>',
        b'<Envelope><Body/></Envelope>',
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><n:EnumerateResponse '
        b'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"/></s:Body></s:Envelope>',
        BILLION_LAUGHS,
        BILLION_LAUGHS.encode('utf-16'),
        '<?xml version="1.0" encoding="gb2312"?><a/>'.encode('utf-8') + b'<b/>',
        '<a>' * 5000 + '</a>' * 5000,
    ],
    ids=lambda value: repr(value)[:30],
)
def test_bad_input_is_a_protocol_error(data):
    for parse in (parse_enumerate_response, parse_pull_response, parse_get_response, lambda d: parse_invoke_response(d, 'Delete')):
        expect_protocol_error(parse, data)


def test_refusal_reasons_are_specific():
    assert 'document type declarations are refused' in str(expect_protocol_error(parse_get_response, BILLION_LAUGHS))
    assert 'nested deeper' in str(expect_protocol_error(parse_get_response, '<a>' * 100 + '</a>' * 100))
    assert 'not well-formed XML' in str(expect_protocol_error(parse_get_response, b'<s:Envelope'))


@pytest.mark.parametrize(
    'name, kind, words',
    [
        ('fault-cannotprocessfilter-wql-unknown-class.xml', 'fault', 'The specified class does not exist in the given namespace.'),
        ('fault-destinationunreachable-wmi-get-instance-not-found.xml', 'not_found', 'cannot find the resource'),
        ('fault-timedout-receive.xml', 'timeout', 'operation_timeout'),
        ('fault-invalidselectors-shell-get.xml', 'fault', 'InvalidSelectors (code 2150858843)'),
        ('fault-quotalimit-msft_wmierror.xml', 'fault', 'QuotaLimit (code 2150859173)'),
        ('fault-internalerror-max-concurrent-operations.xml', 'fault', 'InternalError (code 2150859174)'),
        ('fault-internalerror-win32-file-not-found.xml', 'fault', 'The system cannot find the file specified.'),
    ],
)
def test_fault_in_a_reply_body_is_classified(capture, name, kind, words):
    # The kind is decided where the fault is parsed; the message the user reads is made where it is caught.
    with pytest.raises(XProtectError) as caught:
        parse_get_response(capture(name))
    assert caught.value.kind == kind
    message = str(_wsman_errors.to_xprotect_error(caught.value, None))
    assert words in message
    assert '\n' not in message


def test_typed_wrappers_arrays_and_embedded_instances():
    reply = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        '<p:Win32_Service xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service" '
        'xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common">'
        '<p:InstallDate><cim:Datetime>2024-05-01T10:00:00Z</cim:Datetime></p:InstallDate>'
        '<p:Dependencies>RpcSs</p:Dependencies><p:Dependencies>Tcpip</p:Dependencies>'
        '<p:Embedded><p:A>1</p:A><cim:B>2</cim:B></p:Embedded>'
        '<cim:Location><cim:Address>ignored</cim:Address></cim:Location>'
        '</p:Win32_Service></s:Body></s:Envelope>'
    )
    assert parse_get_response(reply) == {
        '__class__': 'Win32_Service',
        'InstallDate': '2024-05-01T10:00:00Z',
        'Dependencies': ['RpcSs', 'Tcpip'],
        'Embedded': {'A': '1', 'B': '2'},
    }


# -- error bodies (HTTP 4xx/5xx): checked before pywinrm's own parser sees them -------------------


@pytest.mark.parametrize('declaration', ['<!DOCTYPE x>', '<!doctype x>', '<! DOCTYPE x>', '<!ENTITY a "b">'])
@pytest.mark.parametrize('encoding', ['utf-8', 'utf-16', 'utf-16-le', 'utf-8-sig'])
def test_error_bodies_with_a_dtd_are_refused(capture, declaration, encoding):
    text = capture('fault-internalerror-max-concurrent-operations.xml').decode('utf-8')
    body = text.replace('<s:Envelope', declaration + '<s:Envelope', 1).encode(encoding)
    with pytest.raises(XProtectError) as caught:
        _wsman_xml.raise_error_reply(body)
    assert caught.value.kind == 'protocol' and 'document type declarations are refused' in str(caught.value)


def test_error_body_with_a_fault_raises_it(capture):
    with pytest.raises(_wsman_xml.FaultReply) as caught:
        _wsman_xml.raise_error_reply(capture('fault-quotalimit-msft_wmierror.xml'))
    assert caught.value.fault.wmi_code == 2150859173


@pytest.mark.parametrize(
    'body',
    [
        b'',
        b'<html><body>Bad Request</body></html>',
        b'\xff\xfe\x00garbage',
        b'not xml at all',
        b'<a><b></a>',
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>',
    ],
)
def test_other_error_bodies_are_left_to_the_status(body):
    assert _wsman_xml.raise_error_reply(body) is None


def test_fault_keeps_more_text_than_a_message_shows():
    fault = _wsman_xml.Fault(subcode='w:InternalError', reason='r' * 2000, detail='d' * 10000)
    assert len(fault.reason) == 2000 and len(fault.detail) == 16 * _wsman_xml.MAX_FAULT_TEXT
    message = _wsman_errors.fault_error(fault).message
    assert 'd' * (_wsman_xml.MAX_FAULT_TEXT - 3) + '...' in message and 'd' * _wsman_xml.MAX_FAULT_TEXT not in message
