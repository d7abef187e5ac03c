# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WsmanClient with a scripted protocol: requests on the wire, round trips, bounds."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _wsman
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import return_value

S = '{http://www.w3.org/2003/05/soap-envelope}'
A = '{http://schemas.xmlsoap.org/ws/2004/08/addressing}'
W = '{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}'
N = '{http://schemas.xmlsoap.org/ws/2004/09/enumeration}'
XSI = '{http://www.w3.org/2001/XMLSchema-instance}'
CIMV2 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/'
STAR = [
    'enumerate-win32_service-wql-star-ws2012-1-enumerate-response.xml',
    'enumerate-win32_service-wql-star-ws2012-2-pull-response.xml',
    'enumerate-win32_service-wql-star-ws2012-3-pull-response.xml',
    'enumerate-win32_service-wql-star-ws2012-4-pull-response-endofsequence.xml',
]
ENVELOPE = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header/><s:Body>%s</s:Body></s:Envelope>'
)


def service_xml(name):
    return '<p:Win32_Service xmlns:p="%sWin32_Service"><p:Name>%s</p:Name><p:State>Running</p:State></p:Win32_Service>' % (CIMV2, name)


def pull_page(names, context='uuid:next'):
    return ENVELOPE % (
        '<n:PullResponse><n:EnumerationContext>%s</n:EnumerationContext><n:Items>%s</n:Items></n:PullResponse>'
        % (context, ''.join(service_xml(n) for n in names))
    )


def output_xml(method, class_name, values):
    return ENVELOPE % (
        '<p:%s_OUTPUT xmlns:p="%s%s">%s</p:%s_OUTPUT>'
        % (method, CIMV2, class_name, ''.join('<p:%s>%s</p:%s>' % (k, v, k) for k, v in values.items()), method)
    )


def parsed(message):
    root = ET.fromstring(message)
    assert root.tag == S + 'Envelope'
    return root.find(S + 'Header'), root.find(S + 'Body')


def header_text(header, tag):
    return header.find(tag).text


def test_one_round_trip_when_end_of_sequence_comes_with_the_enumerate_response(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture('enumerate-win32_service-wql-star-ws2003-single-enumerate-response.xml')])
    client = WsmanClient(make_settings(), protocol=protocol)
    services = client.enumerate('SELECT * FROM Win32_Service')
    assert len(services) == 104
    assert client.round_trips == 1
    assert protocol.headers == [(_wsman.ACTION_ENUMERATE, CIMV2 + '*')]


def test_enumerate_request_shape(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture('enumerate-win32_service-wql-star-ws2003-single-enumerate-response.xml')])
    settings = make_settings(operation_timeout=20)
    wql = "SELECT Name, State FROM Win32_Service WHERE Name = 'A&B <x>' OR Name = 'MSSQL$SQLEXPRESS'"
    WsmanClient(settings, protocol=protocol).enumerate(wql)
    header, body = parsed(protocol.messages[0])
    assert header_text(header, A + 'Action') == 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate'
    assert header_text(header, W + 'ResourceURI') == CIMV2 + '*'
    assert header_text(header, A + 'To') == settings.endpoint
    assert header_text(header, W + 'OperationTimeout') == 'PT20S'
    assert header.find(W + 'SelectorSet') is None
    enumerate_element = body.find(N + 'Enumerate')
    assert [child.tag for child in enumerate_element] == [W + 'OptimizeEnumeration', W + 'MaxElements', W + 'Filter']
    assert enumerate_element.find(W + 'MaxElements').text == '32000'
    query = enumerate_element.find(W + 'Filter')
    assert query.get('Dialect') == 'http://schemas.microsoft.com/wbem/wsman/1/WQL'
    assert query.text == wql  # escaped on the wire, exact after parsing


def test_pulls_follow_the_context_until_end_of_sequence(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture(name) for name in STAR])
    client = WsmanClient(make_settings(), protocol=protocol)
    services = client.enumerate('SELECT * FROM Win32_Service', namespace='root/cimv2')
    assert len(services) == 131 and len({s['Name'] for s in services}) == 131
    assert client.round_trips == 4
    assert [action for action, _uri in protocol.headers] == [_wsman.ACTION_ENUMERATE] + [_wsman.ACTION_PULL] * 3
    contexts = []
    for message in protocol.messages[1:]:
        header, body = parsed(message)
        assert header_text(header, W + 'ResourceURI') == CIMV2 + '*'
        pull = body.find(N + 'Pull')
        assert pull.find(N + 'MaxElements').text == '32000'
        contexts.append(pull.find(N + 'EnumerationContext').text)
    assert contexts == [
        'uuid:6C0AB864-47F9-4D3E-8601-B786754BBABB',
        'uuid:69C1232D-0042-447B-BBA4-F6DD9324B110',
        'uuid:5F1294CE-8E09-46E7-BC4F-5ECBC9A0F353',
    ]


def test_endless_enumeration_is_bounded_by_pages(capture, make_settings, fake_protocol):
    protocol = fake_protocol(itertools.chain([capture(STAR[0])], itertools.repeat(pull_page(['Svc']))))
    client = WsmanClient(make_settings(), protocol=protocol)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT * FROM Win32_Service')
    assert caught.value.kind == 'protocol'
    assert 'enumeration did not end' in str(caught.value)
    assert str(caught.value).startswith('xp-go-01.example.test: ')
    assert client.round_trips == _wsman.DEFAULT_MAX_PAGES == 100


def test_endless_enumeration_is_bounded_by_items(capture, make_settings, fake_protocol):
    protocol = fake_protocol(itertools.chain([capture(STAR[0])], itertools.repeat(pull_page(['A', 'B', 'C']))))
    client = WsmanClient(make_settings(), protocol=protocol, max_items=5)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT * FROM Win32_Service')
    assert 'enumeration did not end' in str(caught.value)
    assert client.round_trips == 3  # 1 + 3 + 3 items > 5


def test_page_without_context_or_end_is_a_protocol_error(capture, make_settings, fake_protocol):
    broken = pull_page(['A']).replace('<n:EnumerationContext>uuid:next</n:EnumerationContext>', '')
    client = WsmanClient(make_settings(), protocol=fake_protocol([capture(STAR[0]), broken]))
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT * FROM Win32_Service')
    assert caught.value.kind == 'protocol'
    assert 'neither EnumerationContext nor EndOfSequence' in str(caught.value)


def test_get_sends_a_selector_set(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture('get-win32_logicaldisk-response.xml')])
    client = WsmanClient(make_settings(), protocol=protocol)
    disk = client.get('Win32_LogicalDisk', {'DeviceID': 'c:'})
    assert disk['Size'] == '999650488320'
    assert client.round_trips == 1
    header, body = parsed(protocol.messages[0])
    assert header_text(header, A + 'Action') == 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get'
    assert header_text(header, W + 'ResourceURI') == CIMV2 + 'Win32_LogicalDisk'
    selectors = header.findall(W + 'SelectorSet/' + W + 'Selector')
    assert [(s.get('Name'), s.text) for s in selectors] == [('DeviceID', 'c:')]
    assert len(body) == 0


def test_invoke_instance_method(make_settings, fake_protocol):
    name = 'Milestone XProtect Recording Server'
    protocol = fake_protocol([output_xml('StartService', 'Win32_Service', {'ReturnValue': '10'})])
    client = WsmanClient(make_settings(), protocol=protocol)
    output = client.invoke('Win32_Service', 'StartService', selectors={'Name': name})
    assert return_value(output) == 10 and output['ReturnValue'] == '10'
    header, body = parsed(protocol.messages[0])
    assert header_text(header, A + 'Action') == CIMV2 + 'Win32_Service/StartService'
    assert header_text(header, W + 'ResourceURI') == CIMV2 + 'Win32_Service'
    assert [(s.get('Name'), s.text) for s in header.findall(W + 'SelectorSet/' + W + 'Selector')] == [('Name', name)]
    method_input = body.find('{%sWin32_Service}StartService_INPUT' % CIMV2)
    assert method_input is not None and len(method_input) == 0


def test_invoke_static_method_with_params(make_settings, fake_protocol):
    registry = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv'
    reply = ENVELOPE % '<p:SetDWORDValue_OUTPUT xmlns:p="%s"><p:ReturnValue>0</p:ReturnValue></p:SetDWORDValue_OUTPUT>' % registry
    protocol = fake_protocol([reply])
    client = WsmanClient(make_settings(), protocol=protocol)
    params = {
        'hDefKey': 2147483650,
        'sSubKeyName': 'SYSTEM\\CurrentControlSet\\Services\\Milestone Image Server',
        'sValueName': 'DelayedAutostart',
        'uValue': 1,
        'bFlag': True,
        'sNothing': None,
    }
    assert return_value(client.invoke('StdRegProv', 'SetDWORDValue', params=params, namespace='root/default')) == 0
    header, body = parsed(protocol.messages[0])
    assert header_text(header, A + 'Action') == registry + '/SetDWORDValue'
    assert header.find(W + 'SelectorSet') is None
    method_input = body.find('{%s}SetDWORDValue_INPUT' % registry)
    assert [(child.tag.split('}')[1], child.text) for child in method_input] == [
        ('hDefKey', '2147483650'),
        ('sSubKeyName', 'SYSTEM\\CurrentControlSet\\Services\\Milestone Image Server'),
        ('sValueName', 'DelayedAutostart'),
        ('uValue', '1'),
        ('bFlag', 'true'),
        ('sNothing', None),
    ]
    assert method_input[-1].get(XSI + 'nil') == 'true'


def test_selector_values_are_escaped(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture('get-win32_logicaldisk-response.xml')])
    WsmanClient(make_settings(), protocol=protocol).get('Win32_Service', {'Name': 'a&b<c>"d\''})
    header, _body = parsed(protocol.messages[0])
    assert header.find(W + 'SelectorSet/' + W + 'Selector').text == 'a&b<c>"d\''


@pytest.mark.parametrize(
    'call',
    [
        lambda c: c.get('Win32_Service; DROP', {'Name': 'x'}),
        lambda c: c.get('Win32_Service', {'Na me': 'x'}),
        lambda c: c.invoke('Win32_Service', 'Start/Service'),
        lambda c: c.invoke('Win32_Service', 'StartService', params={'a"b': 1}),
        lambda c: c.invoke('Win32_Service', 'StartService', params={'Value': 'bell\x07'}),
        lambda c: c.enumerate('SELECT * FROM Win32_Service', namespace='root/../x'),
        lambda c: c.enumerate('SELECT * FROM Win32_Service', namespace='other'),
    ],
)
def test_invalid_names_never_reach_the_wire(make_settings, fake_protocol, call):
    protocol = fake_protocol([])
    client = WsmanClient(make_settings(), protocol=protocol)
    with pytest.raises(XProtectError) as caught:
        call(client)
    assert caught.value.kind == 'invalid'
    assert protocol.messages == [] and client.round_trips == 0


def test_protocol_is_built_lazily_from_the_settings(monkeypatch, make_settings, capture):
    built = []

    class RecordingProtocol(_wsman.Protocol):
        def __init__(self, endpoint, **options):
            built.append((endpoint, options))
            super().__init__(endpoint, **options)

        def send_message(self, message):
            return capture('get-win32_logicaldisk-response.xml')

    monkeypatch.setattr(_wsman, 'Protocol', RecordingProtocol)
    settings = make_settings(
        validate_certs=False, ca_trust_path='/etc/ca.pem', connection_timeout=45, operation_timeout=30, message_encryption='never'
    )
    client = WsmanClient(settings)
    assert built == []
    client.get('Win32_LogicalDisk', {'DeviceID': 'c:'})
    client.get('Win32_LogicalDisk', {'DeviceID': 'c:'})
    assert len(built) == 1 and client.round_trips == 2
    endpoint, options = built[0]
    assert endpoint == 'https://xp-go-01.example.test:5986/wsman'
    assert options == {
        'transport': 'ntlm',
        'username': 'CORP\\xpgo-admin',
        'password': settings.password,
        'server_cert_validation': 'ignore',
        'ca_trust_path': '/etc/ca.pem',
        'cert_pem': None,
        'cert_key_pem': None,
        'message_encryption': 'never',
        'read_timeout_sec': 45,
        'operation_timeout_sec': 30,
    }


def test_certificate_transport_passes_the_client_certificate(monkeypatch, make_settings):
    built = []
    monkeypatch.setattr(_wsman, 'Protocol', lambda endpoint, **options: built.append(options) or object())
    monkeypatch.setattr(_wsman, 'bound', lambda protocol, settings=None: protocol)
    settings = make_settings(transport='certificate', username=None, password=None, client_cert='/c.pem', client_key='/k.pem')
    # pylint: disable-next=protected-access
    WsmanClient(settings)._get_protocol()
    assert (built[0]['cert_pem'], built[0]['cert_key_pem'], built[0]['server_cert_validation']) == ('/c.pem', '/k.pem', 'validate')
    assert 'ca_trust_path' not in built[0]  # pywinrm's default keeps REQUESTS_CA_BUNDLE working


@pytest.mark.parametrize('connection_timeout, operation_timeout', [(20, 20), (10, 20), (30, 0), ('x', 20)])
def test_read_timeout_must_exceed_operation_timeout(make_settings, connection_timeout, operation_timeout):
    client = WsmanClient(make_settings(connection_timeout=connection_timeout, operation_timeout=operation_timeout))
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    assert caught.value.kind == 'invalid'
    assert 'connection_timeout' in str(caught.value) and 'operation_timeout' in str(caught.value)
    assert client.round_trips == 0


def test_fault_in_a_200_reply_names_the_operation_and_host(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture('fault-cannotprocessfilter-wql-unknown-class.xml')])
    with pytest.raises(XProtectError) as caught:
        WsmanClient(make_settings(), protocol=protocol).enumerate('SELECT * FROM Win32_Processa')
    assert caught.value.kind == 'fault'
    assert str(caught.value) == (
        'xp-go-01.example.test: WQL query "SELECT * FROM Win32_Processa" failed: WMI rejected the query: '
        'The specified class does not exist in the given namespace.'
    )


def test_module_imports_without_pywinrm():
    # A fresh interpreter in which 'winrm' and 'requests' cannot be imported: the modules must still load.
    script = (
        'import sys\n'
        'class Block:\n'
        '    def find_spec(self, name, path=None, target=None):\n'
        '        if name.split(".")[0] in ("winrm", "requests"):\n'
        '            raise ImportError("blocked " + name)\n'
        'sys.meta_path.insert(0, Block())\n'
        'from ansible_collections.xprotect.go.plugins.module_utils import _wsman, _wql\n'
        'from ansible_collections.xprotect.go.plugins.module_utils._connection import ConnectionSettings\n'
        'assert not _wsman.HAS_WINRM and "ImportError: blocked" in _wsman.WINRM_IMPORT_ERROR\n'
        'assert _wql.quote("RpcSs") == "\'RpcSs\'"\n'
        'try:\n'
        '    _wsman.WsmanClient(ConnectionSettings("h1")).enumerate("SELECT Name FROM Win32_Service")\n'
        'except _wsman.XProtectError as error:\n'
        '    print(error.kind, error)\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'invalid h1: the pywinrm Python library is required on the controller (pip install pywinrm)'


# -- an expired enumeration context --------------------------------------------------------------

# wsen:InvalidEnumerationContext as Windows words it (ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT, 0x8033801B).
INVALID_CONTEXT = ENVELOPE % (
    '<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>n:InvalidEnumerationContext</s:Value></s:Subcode></s:Code>'
    '<s:Reason><s:Text xml:lang="en-US">The WS-Enumeration context in the enumeration is not valid. Enumeration may have been '
    'completed or canceled. You cannot use this enumeration context anymore. Start a new enumeration. </s:Text></s:Reason>'
    '<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858779" Machine="xp-go-01">'
    '<f:Message>The WS-Enumeration context in the enumeration is not valid. </f:Message></f:WSManFault></s:Detail></s:Fault>'
)


def last_page(names):
    return ENVELOPE % ('<n:PullResponse><n:Items>%s</n:Items><n:EndOfSequence/></n:PullResponse>' % ''.join(service_xml(n) for n in names))


def first_page(names, context='uuid:first'):
    return ENVELOPE % (
        '<n:EnumerateResponse><n:EnumerationContext>%s</n:EnumerationContext><w:Items>%s</w:Items></n:EnumerateResponse>'
        % (context, ''.join(service_xml(n) for n in names))
    )


def test_an_expired_enumeration_context_starts_the_enumeration_over_once(make_settings, fake_protocol):
    protocol = fake_protocol(
        [
            first_page(['A']),
            pull_page(['B']),
            INVALID_CONTEXT,
            first_page(['A'], 'uuid:second'),
            pull_page(['B'], 'uuid:third'),
            last_page(['C']),
        ]
    )
    client = WsmanClient(make_settings(), protocol=protocol)
    services = client.enumerate('SELECT * FROM Win32_Service')
    assert [s['Name'] for s in services] == ['A', 'B', 'C'], "the first attempt's items are dropped, not doubled"
    assert [action.rsplit('/', 1)[1] for action, _uri in protocol.headers] == ['Enumerate', 'Pull', 'Pull', 'Enumerate', 'Pull', 'Pull']
    assert client.round_trips == 6
    _header, body = parsed(protocol.messages[3])
    assert body.find(N + 'Enumerate/' + W + 'Filter').text == 'SELECT * FROM Win32_Service'


def test_the_context_expiring_again_fails_with_a_clear_message(make_settings, fake_protocol):
    protocol = fake_protocol([first_page(['A']), INVALID_CONTEXT, first_page(['A']), INVALID_CONTEXT])
    client = WsmanClient(make_settings(), protocol=protocol)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT * FROM Win32_Service')
    text = str(caught.value)
    assert caught.value.kind == 'fault' and client.round_trips == 4
    assert text.startswith(
        'xp-go-01.example.test: WQL query "SELECT * FROM Win32_Service" failed: the WinRM listener dropped the '
        'enumeration between two pulls (wsen:InvalidEnumerationContext), also after it was started over'
    )
    assert text.endswith('then run the task again')


@pytest.mark.parametrize('by', ['subcode', 'code'])
def test_the_context_fault_is_known_by_its_subcode_or_its_code(make_settings, fake_protocol, by):
    fault = (
        INVALID_CONTEXT.replace('n:InvalidEnumerationContext', 'w:InternalError')
        if by == 'code'
        else INVALID_CONTEXT.replace('2150858779', '2150859046')
    )
    protocol = fake_protocol([first_page(['A']), fault, first_page(['A']), last_page(['B'])])
    assert [s['Name'] for s in WsmanClient(make_settings(), protocol=protocol).enumerate('SELECT * FROM Win32_Service')] == ['A', 'B']


def test_the_context_fault_on_the_enumerate_itself_is_not_retried(make_settings, fake_protocol):
    protocol = fake_protocol([INVALID_CONTEXT])
    client = WsmanClient(make_settings(), protocol=protocol)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT * FROM Win32_Service')
    assert client.round_trips == 1 and 'InvalidEnumerationContext (code 2150858779)' in str(caught.value)


def test_other_pull_faults_are_not_retried(capture, make_settings, fake_protocol):
    protocol = fake_protocol([first_page(['A']), capture('fault-internalerror-max-concurrent-operations.xml')])
    client = WsmanClient(make_settings(), protocol=protocol)
    with pytest.raises(XProtectError):
        client.enumerate('SELECT * FROM Win32_Service')
    assert client.round_trips == 2


# -- WQL length -----------------------------------------------------------------------------------


def test_a_query_longer_than_windows_takes_is_refused_before_sending(make_settings, fake_protocol):
    protocol = fake_protocol([])
    client = WsmanClient(make_settings(), protocol=protocol)
    wql = 'SELECT Name FROM Win32_Service WHERE ' + ' OR '.join("Name = 'Service%05d'" % i for i in range(800))
    assert len(wql) > 16384
    with pytest.raises(XProtectError) as caught:
        client.enumerate(wql)
    assert caught.value.kind == 'invalid' and protocol.messages == [] and client.round_trips == 0
    assert str(caught.value).startswith('xp-go-01.example.test: WQL query "SELECT Name FROM Win32_Service WHERE ')
    assert 'more than the 16384' in str(caught.value)


def test_a_query_of_exactly_the_limit_is_sent(capture, make_settings, fake_protocol):
    protocol = fake_protocol([capture('enumerate-win32_service-wql-star-ws2003-single-enumerate-response.xml')])
    wql = "SELECT Name FROM Win32_Service WHERE Name = '%s'" % ('x' * (16384 - 46))
    assert len(wql) == 16384
    WsmanClient(make_settings(), protocol=protocol).enumerate(wql)
    assert len(protocol.messages) == 1


def test_enumerate_many_runs_each_query_in_order(make_settings, fake_protocol):
    protocol = fake_protocol(
        [
            ENVELOPE % ('<n:EnumerateResponse><w:Items>%s</w:Items><w:EndOfSequence/></n:EnumerateResponse>' % service_xml(name))
            for name in ('A', 'B')
        ]
    )
    client = WsmanClient(make_settings(), protocol=protocol)
    services = client.enumerate_many(["SELECT Name FROM Win32_Service WHERE Name = 'A'", "SELECT Name FROM Win32_Service WHERE Name = 'B'"])
    assert [s['Name'] for s in services] == ['A', 'B'] and client.round_trips == 2
