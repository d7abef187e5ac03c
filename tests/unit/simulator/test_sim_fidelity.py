# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulator's replies against real Windows WinRM captures (tests/fixtures/winrm-captures), element by element.

Shapes are compared, not strings: the element tree (tags with namespaces, in order, repeated items
collapsed), the namespaces declared on the envelope, actions, fault codes, texts Windows fixes, and
the Win32_Service property set. Known, deliberate differences:
- Win32_Service has DelayedAutoStart since Windows Server 2016; the Server 2012 captures lack it.
- __ExtendedStatus: Server 2008 R2 used a root/cimv2 namespace, 2012 R2 the DMTF cim-schema one
  (the simulator's); its properties are compared by local name.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pypsrp.wsman import WSMan
from winrm.exceptions import WinRMTransportError, WSManFaultError
from winrm.protocol import Protocol

from xprotect_go_simulator import soap
from xprotect_go_simulator.host import CIMV2_ALL_URI, SERVICE_URI, SimulatedHost

CAPTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'winrm-captures'

S, A, N, W, F = soap.NS_SOAP, soap.NS_ADDRESSING, soap.NS_ENUMERATION, soap.NS_WSMAN, soap.NS_FAULT
XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'
EXTENDED_STATUS_NAMESPACES = (
    'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/__ExtendedStatus',
    'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/__ExtendedStatus',
)
ITEM_TAGS = ('{%s}Win32_Service' % SERVICE_URI, '{%s}XmlFragment' % W)
# The query of the explicit-property capture: every property Server 2012's Win32_Service has.
SERVER_2012_PROPERTIES = (
    'AcceptPause',
    'AcceptStop',
    'Caption',
    'CheckPoint',
    'CreationClassName',
    'Description',
    'DesktopInteract',
    'DisplayName',
    'ErrorControl',
    'ExitCode',
    'InstallDate',
    'Name',
    'PathName',
    'ProcessId',
    'ServiceSpecificExitCode',
    'ServiceType',
    'Started',
    'StartMode',
    'StartName',
    'State',
    'Status',
    'SystemCreationClassName',
    'SystemName',
    'TagId',
    'WaitHint',
)


def capture(name):
    return (CAPTURES / name).read_bytes()


def skeleton(element, items=True):
    """(tag, children) with consecutive equal children collapsed; items=False stops at enumeration items."""
    namespace, local = element.tag[1:].split('}') if element.tag.startswith('{') else ('', element.tag)
    tag = local if namespace in EXTENDED_STATUS_NAMESPACES else element.tag
    if not items and element.tag in ITEM_TAGS:
        return (tag, '...')
    children = []
    for child in element:
        shape = skeleton(child, items)
        if not children or children[-1] != shape:
            children.append(shape)
    return (tag, tuple(children))


def envelope_prefixes(raw):
    """The namespace prefixes declared on the envelope element."""
    prefixes = set()
    for event, value in ET.iterparse(io.BytesIO(raw), events=('start-ns', 'start')):
        if event == 'start':
            return prefixes
        prefixes.add(value[0])
    return prefixes


def header_text(root, name):
    return root.findtext('{%s}Header/{%s}%s' % (S, A, name)).strip()


class Exchange:
    """Requests to a simulated host, keeping the raw replies."""

    def __init__(self):
        self.host = SimulatedHost('vagrant-2012r2')

    def send(self, action, uri, body='', selectors=None):
        status, raw = self.host.handle(soap.build_request(action, uri, body, selectors), 'vagrant')
        return status, raw, ET.fromstring(raw)

    def enumerate(self, wql, max_elements):
        return self.send(soap.ACTION_ENUMERATE, CIMV2_ALL_URI, soap.enumerate_body(wql, max_elements=max_elements))

    def pull(self, wql, enumerate_max, pull_max, pages):
        """The raw reply of the pages-th Pull of an enumeration."""
        _status, _raw, root = self.enumerate(wql, enumerate_max)
        context = root.findtext('{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N))
        for _page in range(pages):
            status, raw, root = self.send(soap.ACTION_PULL, CIMV2_ALL_URI, soap.pull_body(context, pull_max))
            context = root.findtext('{%s}Body/{%s}PullResponse/{%s}EnumerationContext' % (S, N, N))
        return status, raw, root


@pytest.fixture(name='exchange')
def exchange_fixture():
    return Exchange()


def assert_same_envelope(ours, real, items=False):
    """Same envelope prefixes, language, header and body shape."""
    our_raw, our_root = ours
    real_root = ET.fromstring(real)
    assert envelope_prefixes(our_raw) == envelope_prefixes(real)
    assert our_root.get(XML_LANG) == real_root.get(XML_LANG) == 'en-US'
    assert skeleton(our_root, items) == skeleton(real_root, items)
    assert header_text(our_root, 'Action') == header_text(real_root, 'Action')
    assert header_text(our_root, 'To') == header_text(real_root, 'To')
    assert header_text(our_root, 'MessageID').startswith('uuid:')


STAR = 'SELECT * FROM Win32_Service'
PROPS = 'SELECT %s FROM Win32_Service' % ','.join(SERVER_2012_PROPERTIES)


@pytest.mark.parametrize(
    'wql, capture_name',
    [
        (STAR, 'enumerate-win32_service-wql-star-ws2012-1-enumerate-response.xml'),
        (PROPS, 'enumerate-win32_service-wql-props-ws2012-1-enumerate-response-xmlfragment.xml'),
    ],
)
def test_first_page_of_a_long_enumeration(exchange, wql, capture_name):
    status, raw, root = exchange.enumerate(wql, max_elements=1)
    assert status == 200
    # XmlFragments are compared down to their children: the same query gives the same properties, same order.
    assert_same_envelope((raw, root), capture(capture_name), items=wql == PROPS)


def test_everything_in_the_enumerate_response(exchange):
    status, raw, root = exchange.enumerate(STAR, max_elements=32000)
    real = capture('enumerate-win32_service-wql-star-ws2003-single-enumerate-response.xml')
    assert status == 200
    assert_same_envelope((raw, root), real)
    path = '{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N)
    assert root.find(path).text is None and ET.fromstring(real).find(path).text is None


@pytest.mark.parametrize(
    'wql, pages, capture_name',
    [
        (STAR, 1, 'enumerate-win32_service-wql-star-ws2012-2-pull-response.xml'),
        (STAR, 2, 'enumerate-win32_service-wql-star-ws2012-4-pull-response-endofsequence.xml'),
        (PROPS, 2, 'enumerate-win32_service-wql-props-ws2012-4-pull-response-xmlfragment-endofsequence.xml'),
    ],
)
def test_pull_pages(exchange, wql, pages, capture_name):
    status, raw, root = exchange.pull(wql, enumerate_max=1, pull_max=10, pages=pages)
    assert status == 200
    assert_same_envelope((raw, root), capture(capture_name), items=wql == PROPS)


def property_names(item):
    return [child.tag.split('}')[-1] for child in item]


def test_win32_service_instances_have_the_windows_property_set(exchange):
    real_items = list(ET.fromstring(capture('enumerate-win32_service-wql-star-ws2012-2-pull-response.xml')).iter(ITEM_TAGS[0]))
    _status, _raw, root = exchange.enumerate(STAR, max_elements=32000)
    our_items = list(root.iter(ITEM_TAGS[0]))
    real_names = property_names(real_items[0])
    assert all(property_names(item) == real_names for item in real_items)
    # The order rule, seen in the capture: alphabetical, ignoring case (Started < StartMode < StartName < State).
    assert real_names == sorted(real_names, key=str.lower)
    for item in our_items:
        assert property_names(item) == sorted(real_names + ['DelayedAutoStart'], key=str.lower)
        assert item.get('{%s}type' % soap.NS_XSI) == real_items[0].get('{%s}type' % soap.NS_XSI) == 'p:Win32_Service_Type'
    for items in (real_items, our_items):
        nil = {child.tag for item in items for child in item if child.get('{%s}nil' % soap.NS_XSI) == 'true'}
        assert nil == {'{%s}InstallDate' % SERVICE_URI}
        booleans = {
            child.text
            for item in items
            for child in item
            if child.tag.split('}')[1] in ('AcceptPause', 'AcceptStop', 'DesktopInteract', 'Started')
        }
        assert booleans == {'true', 'false'}
    # Stopped services stop accepting controls and keep no process, as in the capture.
    for items in (real_items, our_items):
        stopped = [item for item in items if item.findtext('{%s}State' % SERVICE_URI) == 'Stopped']
        assert stopped and all(
            item.findtext('{%s}ProcessId' % SERVICE_URI) == '0'
            and item.findtext('{%s}AcceptStop' % SERVICE_URI) == 'false'
            and item.findtext('{%s}Started' % SERVICE_URI) == 'false'
            for item in stopped
        )


def fault_details(root):
    fault = root.find('{%s}Body/{%s}Fault' % (S, S))
    outer = fault.find('{%s}Detail/{%s}WSManFault' % (S, F))
    provider = outer.find('{%s}Message/{%s}ProviderFault' % (F, F))
    return {
        'action': header_text(root, 'Action'),
        'code': fault.findtext('{%s}Code/{%s}Value' % (S, S)),
        'subcode': fault.findtext('{%s}Code/{%s}Subcode/{%s}Value' % (S, S, S)),
        'reason': fault.findtext('{%s}Reason/{%s}Text' % (S, S)),
        'detail': fault.findtext('{%s}Detail/{%s}FaultDetail' % (S, W)),
        'hresult': outer.get('Code'),
        'provider': provider.get('provider'),
        'inner_hresult': provider.find('{%s}WSManFault' % F).get('Code'),
        'extended': [
            (child.tag.split('}')[1], child.text) for child in provider.iter() if child.tag.split('}')[1] in ('Operation', 'ProviderName')
        ],
    }


def test_cannot_process_filter_fault(exchange):
    query = 'Select * from Win32_Processa where name="sshd.exe"'
    status, raw, root = exchange.enumerate(query, max_elements=10)
    real = capture('fault-cannotprocessfilter-wql-unknown-class.xml')
    real_root = ET.fromstring(real)
    assert status == 500
    assert_same_envelope((raw, root), real, items=True)
    assert fault_details(root) == fault_details(real_root)
    inner = '{%s}Body/{%s}Fault/{%s}Detail/{%s}WSManFault/{%s}Message/{%s}ProviderFault/{%s}WSManFault/{%s}Message' % (
        S,
        S,
        S,
        F,
        F,
        F,
        F,
        F,
    )
    assert root.findtext(inner) == real_root.findtext(inner)
    parameter = [element.text for element in root.iter() if element.tag.endswith('}ParameterInfo')]
    assert parameter == [element.text for element in real_root.iter() if element.tag.endswith('}ParameterInfo')] == [query]


def test_instance_not_found_fault(exchange):
    status, raw, root = exchange.send(soap.ACTION_GET, SERVICE_URI, selectors={'Name': 'sshd'})
    real = capture('fault-destinationunreachable-wmi-get-instance-not-found.xml')
    assert status == 500
    assert_same_envelope((raw, root), real, items=True)
    assert fault_details(root) == fault_details(ET.fromstring(real))


def test_invalid_selectors_fault(exchange):
    status, raw, root = exchange.send(soap.ACTION_GET, SERVICE_URI, selectors={'ShellId': '4283CBDC'})
    real = capture('fault-invalidselectors-shell-get.xml')
    assert status == 500
    assert_same_envelope((raw, root), real, items=True)
    ours, theirs = fault_details(root), fault_details(ET.fromstring(real))
    assert (ours.pop('provider'), theirs.pop('provider')) == ('WMI Provider', 'Shell provider')
    assert ours == theirs


def normalised(shape, class_uri, method):
    """A skeleton with the class URI and method name replaced, to compare invocations of different methods."""
    tag, children = shape
    tag = tag.replace(class_uri, 'CLASS').replace(method, 'METHOD')
    return (tag, tuple(normalised(child, class_uri, method) for child in children))


def test_invoke_response(exchange):
    status, raw, root = exchange.send(SERVICE_URI + '/StopService', SERVICE_URI, selectors={'Name': 'Spooler'})
    real = capture('invoke-cim_datafile-delete-response.xml')
    real_root = ET.fromstring(real)
    assert status == 200
    assert envelope_prefixes(raw) == envelope_prefixes(real)
    assert normalised(skeleton(root), SERVICE_URI, 'StopService') == normalised(
        skeleton(real_root), soap.WMI_BASE + 'root/cimv2/CIM_DataFile', 'Delete'
    )
    assert header_text(root, 'Action') == SERVICE_URI + '/StopServiceResponse'
    assert header_text(real_root, 'Action') == soap.WMI_BASE + 'root/cimv2/CIM_DataFile/DeleteResponse'


def test_get_response(exchange):
    status, raw, root = exchange.send(soap.ACTION_GET, SERVICE_URI, selectors={'Name': 'Spooler'})
    real = capture('get-win32_logicaldisk-response.xml')
    real_root = ET.fromstring(real)
    assert status == 200
    assert envelope_prefixes(raw) == envelope_prefixes(real)
    real_header = [child.tag for child in real_root.find('{%s}Header' % S) if not child.tag.endswith('}ActivityId')]
    assert [child.tag for child in root.find('{%s}Header' % S)] == real_header
    assert header_text(root, 'Action') == header_text(real_root, 'Action')
    instance = root.find('{%s}Body' % S)[0]
    real_instance = real_root.find('{%s}Body' % S)[0]
    assert (
        instance.get('{%s}type' % soap.NS_XSI) == 'p:Win32_Service_Type'
        and real_instance.get('{%s}type' % soap.NS_XSI) == 'p:Win32_LogicalDisk_Type'
    )
    assert property_names(instance) == sorted(SERVER_2012_PROPERTIES + ('DelayedAutoStart',), key=str.lower)


class FailingTransport:
    """Stands in for pywinrm's HTTP transport: answers every message with HTTP 500 and the given body."""

    def __init__(self, body):
        self.body = body

    def send_message(self, _message):
        raise WinRMTransportError('http', 500, self.body)


def pywinrm_fault(body):
    protocol = Protocol('http://127.0.0.1:5985/wsman', transport='plaintext', username='u', password='p')
    protocol.transport = FailingTransport(body)
    with pytest.raises(WSManFaultError) as error:
        protocol.send_message('<s:Envelope/>')
    fault = error.value
    return fault.code, fault.fault_code, fault.fault_subcode, fault.wsman_fault_code, fault.reason


def pypsrp_fault(body):
    fault = WSMan._parse_wsman_fault(body)  # pylint: disable=protected-access
    return fault.code, fault.reason, fault.provider, fault.provider_path


@pytest.mark.parametrize(
    'request_args, capture_name',
    [
        (
            (
                soap.ACTION_ENUMERATE,
                CIMV2_ALL_URI,
                soap.enumerate_body('Select * from Win32_Processa where name="sshd.exe"', max_elements=9),
            ),
            'fault-cannotprocessfilter-wql-unknown-class.xml',
        ),
        ((soap.ACTION_GET, SERVICE_URI, '', {'Name': 'sshd'}), 'fault-destinationunreachable-wmi-get-instance-not-found.xml'),
        ((soap.ACTION_GET, SERVICE_URI, '', {'ShellId': '4283CBDC'}), 'fault-invalidselectors-shell-get.xml'),
    ],
)
def test_client_libraries_read_our_faults_as_they_read_windows(exchange, request_args, capture_name):
    _status, raw, _root = exchange.send(*request_args)
    real = capture(capture_name).decode('utf-8')
    assert pywinrm_fault(raw.decode('utf-8')) == pywinrm_fault(real)
    code, reason, provider, path = pypsrp_fault(raw.decode('utf-8'))
    # pypsrp reads f:Message's own text; the pretty-printed capture has only whitespace there, so compare the code.
    assert code == pypsrp_fault(real)[0]
    assert reason and (provider, path) == ('WMI Provider', '%systemroot%\\system32\\WsmWmiPl.dll')


@pytest.mark.parametrize(
    'request_args, expected',
    [
        (
            (soap.ACTION_PULL, SERVICE_URI, soap.pull_body('uuid:00000000-0000-0000-0000-000000000000')),
            ('s:Receiver', 'n:InvalidEnumerationContext', 2150858779),
        ),
        ((soap.NS_TRANSFER + '/Delete', SERVICE_URI, '', {'Name': 'Spooler'}), ('s:Sender', 'a:ActionNotSupported', 2150858771)),
    ],
)
def test_pywinrm_reads_the_other_faults(exchange, request_args, expected):
    _status, raw, _root = exchange.send(*request_args)
    code, fault_code, fault_subcode, wsman_code, reason = pywinrm_fault(raw.decode('utf-8'))
    assert (code, fault_code, fault_subcode, wsman_code) == (500,) + expected
    assert reason.startswith('The WS-')
