# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SOAP round trips through SimulatedHost.handle(): enumerations, Get, Invoke and the faults."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from xprotect_go_simulator import soap
from xprotect_go_simulator.host import CIMV2_ALL_URI, SERVICE_URI, STDREGPROV_URI, SimulatedHost
from xprotect_go_simulator.profiles import IMAGE_SERVER, RECORDING_SERVER

S, A, N, W, F = soap.NS_SOAP, soap.NS_ADDRESSING, soap.NS_ENUMERATION, soap.NS_WSMAN, soap.NS_FAULT
MESSAGE_ID = 'uuid:6F1C4B7E-2B0A-4C55-9D0E-0123456789AB'


class Clock:
    now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture(name='clock')
def clock_fixture():
    return Clock()


@pytest.fixture(name='host')
def host_fixture(clock):
    return SimulatedHost('xpgo-07', clock=clock)


def send(host, action, uri, body='', selectors=None, user='xpgo-admin', **options):
    status, reply = host.handle(soap.build_request(action, uri, body, selectors, message_id=MESSAGE_ID, **options), user)
    return status, ET.fromstring(reply)


def ok(host, *args, **kwargs):
    status, root = send(host, *args, **kwargs)
    assert status == 200, ET.tostring(root)
    assert root.findtext('{%s}Header/{%s}RelatesTo' % (S, A)) == MESSAGE_ID
    return root


def fault(host, *args, **kwargs):
    """(subcode, WSManFault Code, fault element) of a request that must fail."""
    status, root = send(host, *args, **kwargs)
    assert status == 500
    element = root.find('{%s}Body/{%s}Fault' % (S, S))
    return (
        element.findtext('{%s}Code/{%s}Subcode/{%s}Value' % (S, S, S)),
        int(element.find('{%s}Detail/{%s}WSManFault' % (S, F)).get('Code')),
        element,
    )


def enumerate_all(host, wql=None, max_elements=None, optimize=True, pull_max=None, **options):
    """Every item of an enumeration, and the number of round trips it took."""
    uri = CIMV2_ALL_URI if wql else SERVICE_URI
    root = ok(host, soap.ACTION_ENUMERATE, uri, soap.enumerate_body(wql, optimize, max_elements), **options)
    response = root.find('{%s}Body/{%s}EnumerateResponse' % (S, N))
    items = list(response.find('{%s}Items' % W)) if optimize else []
    trips = 1
    context = response.findtext('{%s}EnumerationContext' % N)
    end = response.find('{%s}EndOfSequence' % W) is not None
    while not end:
        assert context
        pulled = ok(host, soap.ACTION_PULL, uri, soap.pull_body(context, pull_max), **options).find('{%s}Body/{%s}PullResponse' % (S, N))
        items.extend(pulled.find('{%s}Items' % N))
        trips += 1
        end = pulled.find('{%s}EndOfSequence' % N) is not None
        context = pulled.findtext('{%s}EnumerationContext' % N)
        assert end == (context is None)
    return items, trips


def names_of(items):
    return [item.findtext('{%s}Name' % SERVICE_URI) or item.findtext('Name') for item in items]


def test_everything_in_one_round_trip_when_it_fits(host):
    items, trips = enumerate_all(host, max_elements=32000)
    assert trips == 1
    assert names_of(items) == sorted(host.snapshot(), key=str.lower)
    assert all(item.tag == '{%s}Win32_Service' % SERVICE_URI for item in items)


def test_pages_of_max_elements_then_pulls(host):
    items, trips = enumerate_all(host, max_elements=5, pull_max=5)
    assert len(items) == len(host.snapshot()) == 21
    assert trips == 5
    assert len(set(names_of(items))) == 21


def test_max_elements_defaults_to_one(host):
    items, trips = enumerate_all(host, "SELECT Name FROM Win32_Service WHERE Name LIKE 'Milestone%'")
    assert len(items) == 6 and trips == 6


def test_without_optimize_enumeration_the_items_come_by_pull(host):
    root = ok(host, soap.ACTION_ENUMERATE, SERVICE_URI, soap.enumerate_body(optimize=False))
    response = root.find('{%s}Body/{%s}EnumerateResponse' % (S, N))
    assert [child.tag for child in response] == ['{%s}EnumerationContext' % N]
    items, _trips = enumerate_all(host, optimize=False, pull_max=100)
    assert len(items) == 21


def test_pages_are_cut_near_75_kb(host):
    for index in range(120):
        host.configure('Filler%03d' % index, add=True, Description='x' * 1500)
    status, reply = host.handle(soap.build_request(soap.ACTION_ENUMERATE, SERVICE_URI, soap.enumerate_body(max_elements=32000)), 'u')
    assert status == 200 and 60 * 1024 < len(reply) <= 75 * 1024
    items, trips = enumerate_all(host, max_elements=32000, pull_max=32000)
    assert len(items) == 141 and trips == 5  # 120 items of 2.7 KB and 21 smaller ones fill five 75 KB pages


def test_a_small_max_envelope_size_makes_smaller_pages(host):
    items, trips = enumerate_all(host, max_elements=32000, pull_max=32000, max_envelope_size=8192)
    assert len(items) == 21 and trips > 3


def test_a_used_released_or_expired_context_is_invalid(host, clock):
    first = ok(host, soap.ACTION_ENUMERATE, SERVICE_URI, soap.enumerate_body(max_elements=1))
    context = first.findtext('{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N))
    ok(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context))
    subcode, code, element = fault(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context))
    assert (subcode, code) == ('n:InvalidEnumerationContext', 2150858779)
    assert element.findtext('{%s}Code/{%s}Value' % (S, S)) == 's:Receiver'

    second = ok(host, soap.ACTION_ENUMERATE, SERVICE_URI, soap.enumerate_body(max_elements=1))
    context = second.findtext('{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N))
    released = ok(
        host, soap.ACTION_RELEASE, SERVICE_URI, '<n:Release><n:EnumerationContext>%s</n:EnumerationContext></n:Release>' % context
    )
    assert released.findtext('{%s}Header/{%s}Action' % (S, A)) == N + '/ReleaseResponse'
    assert fault(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context))[0] == 'n:InvalidEnumerationContext'

    third = ok(host, soap.ACTION_ENUMERATE, SERVICE_URI, soap.enumerate_body(max_elements=1))
    context = third.findtext('{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N))
    clock.now += 241
    assert fault(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context))[0] == 'n:InvalidEnumerationContext'


def test_endless_enumeration_never_ends(host):
    host.endless_enumeration = True
    root = ok(host, soap.ACTION_ENUMERATE, SERVICE_URI, soap.enumerate_body(max_elements=32000))
    context = root.findtext('{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N))
    for _page in range(5):
        pulled = ok(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context, 32000)).find('{%s}Body/{%s}PullResponse' % (S, N))
        assert pulled.find('{%s}EndOfSequence' % N) is None
        context = pulled.findtext('{%s}EnumerationContext' % N)
        assert context and len(pulled.find('{%s}Items' % N)) == 21


def test_projection_gives_xml_fragments_with_nulls(host):
    items, _trips = enumerate_all(host, "SELECT State, InstallDate, Name FROM Win32_Service WHERE Name = 'spooler'", max_elements=10)
    assert len(items) == 1
    fragment = items[0]
    assert fragment.tag == '{%s}XmlFragment' % W
    assert [child.tag for child in fragment] == ['InstallDate', 'Name', 'State']
    assert fragment.find('InstallDate').get('{%s}nil' % soap.NS_XSI) == 'true'
    assert fragment.findtext('Name') == 'Spooler'


def test_where_clause_selects_live_state(host, clock):
    ok(host, SERVICE_URI + '/StopService', SERVICE_URI, '', selectors={'Name': IMAGE_SERVER})
    items, _trips = enumerate_all(host, "SELECT * FROM Win32_Service WHERE State = 'Stop Pending'", max_elements=10)
    assert names_of(items) == [IMAGE_SERVER]
    item = items[0]
    assert item.findtext('{%s}AcceptStop' % SERVICE_URI) == 'false'
    assert int(item.findtext('{%s}WaitHint' % SERVICE_URI)) == 500 and item.findtext('{%s}CheckPoint' % SERVICE_URI) == '1'
    clock.now += 0.5
    assert enumerate_all(host, "SELECT Name FROM Win32_Service WHERE State = 'Stop Pending'", max_elements=10)[0] == []


def test_associators_of_dependent_service(host):
    wql = 'ASSOCIATORS OF {Win32_Service.Name="RpcSs"} WHERE AssocClass = Win32_DependentService Role = Antecedent'
    dependents = names_of(enumerate_all(host, wql, max_elements=100)[0])
    assert RECORDING_SERVER in dependents and 'WinRM' in dependents and 'RpcEptMapper' not in dependents
    wql = 'ASSOCIATORS OF {Win32_Service.Name="rpcss"} WHERE AssocClass = Win32_DependentService Role = Dependent'
    assert names_of(enumerate_all(host, wql, max_elements=100)[0]) == ['DcomLaunch', 'RpcEptMapper']
    wql = 'ASSOCIATORS OF {Win32_Service.Name="NoSuchService"} WHERE AssocClass = Win32_DependentService'
    assert enumerate_all(host, wql, max_elements=100)[0] == []


@pytest.mark.parametrize(
    'wql, message',
    [
        ('SELECT * FROM Win32_Processa', 'The specified class does not exist in the given namespace. '),
        ('SELECT Nmae FROM Win32_Service', 'The WQL query is invalid: it names a property the class does not have. '),
        ("SELECT * FROM Win32_Service WHERE Name = 'x", 'The WQL query is invalid. '),
        (
            'ASSOCIATORS OF {Win32_Service.Name="RpcSs"} WHERE AssocClass = Win32_SystemServices',
            'The specified class does not exist in the given namespace. ',
        ),
    ],
)
def test_bad_queries_answer_cannot_process_filter(host, wql, message):
    subcode, code, element = fault(host, soap.ACTION_ENUMERATE, CIMV2_ALL_URI, soap.enumerate_body(wql, max_elements=10))
    assert (subcode, code) == ('n:CannotProcessFilter', 2150858778)
    provider = element.find('{%s}Detail/{%s}WSManFault/{%s}Message/{%s}ProviderFault' % (S, F, F, F))
    assert provider.findtext('{%s}WSManFault/{%s}Message' % (F, F)) == message
    status = provider.find('{%s}ExtendedError' % F)[0]
    assert status.findtext('{http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/__ExtendedStatus}ParameterInfo') == wql


def test_filter_dialect_and_missing_filter(host):
    body = '<n:Enumerate><w:Filter Dialect="http://example.com/XPath">/a</w:Filter></n:Enumerate>'
    assert fault(host, soap.ACTION_ENUMERATE, CIMV2_ALL_URI, body)[:2] == ('n:FilterDialectRequestedUnavailable', 2150858777)
    assert fault(host, soap.ACTION_ENUMERATE, CIMV2_ALL_URI, soap.enumerate_body())[:2] == ('n:CannotProcessFilter', 2150858778)


def test_get_by_name_ignores_case(host):
    root = ok(host, soap.ACTION_GET, SERVICE_URI, selectors={'Name': 'milestone image server'})
    assert root.findtext('{%s}Header/{%s}Action' % (S, A)) == soap.ACTION_GET + 'Response'
    instance = root.find('{%s}Body/{%s}Win32_Service' % (S, SERVICE_URI))
    assert instance.findtext('{%s}Name' % SERVICE_URI) == IMAGE_SERVER
    assert instance.findtext('{%s}SystemName' % SERVICE_URI) == 'XPGO-07'


def test_get_faults(host):
    subcode, code, element = fault(host, soap.ACTION_GET, SERVICE_URI, selectors={'Name': 'NoSuchService'})
    assert (subcode, code) == ('a:DestinationUnreachable', 2150858752)
    assert element.findtext('{%s}Detail/{%s}FaultDetail' % (S, W)).endswith('/InvalidResourceURI')
    assert fault(host, soap.ACTION_GET, SERVICE_URI)[:2] == ('w:InvalidSelectors', 2150858842)
    subcode, code, element = fault(host, soap.ACTION_GET, SERVICE_URI, selectors={'Handle': '4'})
    assert (subcode, code) == ('w:InvalidSelectors', 2150858843)
    assert element.findtext('{%s}Detail/{%s}FaultDetail' % (S, W)).endswith('/UnexpectedSelectors')


def test_invoke_response(host):
    root = ok(
        host,
        SERVICE_URI + '/StopService',
        SERVICE_URI,
        '<p:StopService_INPUT xmlns:p="%s"/>' % SERVICE_URI,
        selectors={'Name': RECORDING_SERVER},
    )
    assert root.findtext('{%s}Header/{%s}Action' % (S, A)) == SERVICE_URI + '/StopServiceResponse'
    assert root.findtext('{%s}Body/{%s}StopService_OUTPUT/{%s}ReturnValue' % (S, SERVICE_URI, SERVICE_URI)) == '0'
    assert fault(host, SERVICE_URI + '/StartService', SERVICE_URI, selectors={'Name': 'Nope'})[0] == 'a:DestinationUnreachable'
    assert fault(host, SERVICE_URI + '/PauseService', SERVICE_URI, selectors={'Name': 'Spooler'})[0] == 'a:ActionNotSupported'
    body = '<p:Wrong_INPUT xmlns:p="%s"/>' % SERVICE_URI
    assert fault(host, SERVICE_URI + '/StopService', SERVICE_URI, body, selectors={'Name': 'Spooler'})[0] == 'w:SchemaValidationError'


def test_stdregprov_is_static(host):
    body = (
        '<p:GetDWORDValue_INPUT xmlns:p="%s"><p:sSubKeyName>SYSTEM\\CurrentControlSet\\Services\\sppsvc</p:sSubKeyName>'
        '<p:sValueName>DelayedAutostart</p:sValueName></p:GetDWORDValue_INPUT>' % STDREGPROV_URI
    )
    root = ok(host, STDREGPROV_URI + '/GetDWORDValue', STDREGPROV_URI, body)
    output = root.find('{%s}Body/{%s}GetDWORDValue_OUTPUT' % (S, STDREGPROV_URI))
    assert [(child.tag.split('}')[1], child.text) for child in output] == [('ReturnValue', '0'), ('uValue', '1')]


@pytest.mark.parametrize(
    'action, uri, subcode, code',
    [
        (soap.NS_TRANSFER + '/Put', SERVICE_URI, 'a:ActionNotSupported', 2150858771),
        (soap.ACTION_ENUMERATE, STDREGPROV_URI, 'a:ActionNotSupported', 2150858771),
        (soap.ACTION_GET, soap.WMI_BASE + 'root/cimv2/Win32_Process', 'a:DestinationUnreachable', 2150858752),
        (
            'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command',
            'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd',
            'a:DestinationUnreachable',
            2150858752,
        ),
    ],
)
def test_unsupported_actions_and_resources(host, action, uri, subcode, code):
    assert fault(host, action, uri, soap.enumerate_body('SELECT * FROM Win32_Service'))[:2] == (subcode, code)


@pytest.mark.parametrize(
    'body, subcode, code',
    [
        (b'<s:Envelope', 'w:SchemaValidationError', 2150858819),
        (b'', 'w:SchemaValidationError', 2150858819),
        (b'<Envelope/>', 'w:SchemaValidationError', 2150858817),
        (
            ('<s:Envelope xmlns:s="%s"><s:Header/><s:Body/></s:Envelope>' % soap.NS_SOAP).encode(),
            'a:MessageInformationHeaderRequired',
            2150858769,
        ),
    ],
)
def test_malformed_requests_get_faults_not_exceptions(host, body, subcode, code):
    status, reply = host.handle(body, 'u')
    root = ET.fromstring(reply)
    assert status == 500
    assert root.findtext('{%s}Body/{%s}Fault/{%s}Code/{%s}Subcode/{%s}Value' % (S, S, S, S, S)) == subcode
    assert root.find('{%s}Body/{%s}Fault/{%s}Detail/{%s}WSManFault' % (S, S, S, F)).get('Code') == str(code)
    assert root.find('{%s}Header/{%s}RelatesTo' % (S, A)) is None


def test_utf16_requests_and_operation_id(host):
    request = soap.build_request(
        soap.ACTION_GET,
        SERVICE_URI,
        selectors={'Name': 'Spooler'},
        message_id=MESSAGE_ID,
        operation_id='uuid:0A0B0C0D-0000-4000-8000-000000000001',
    ).decode('utf-8')
    status, reply = host.handle(request.encode('utf-16'), 'u')
    assert status == 200
    header = ET.fromstring(reply).find('{%s}Header' % S)
    assert header.findtext('{%s}OperationID' % soap.NS_MS_WSMAN) == 'uuid:0A0B0C0D-0000-4000-8000-000000000001'
    assert header.findtext('{%s}SequenceId' % soap.NS_MS_WSMAN) == '1'
    assert [child.tag.split('}')[1] for child in header] == ['Action', 'MessageID', 'To', 'OperationID', 'SequenceId', 'RelatesTo']
