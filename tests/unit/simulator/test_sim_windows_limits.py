# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where generic WS-Man clients look: WQL's length limit, enumeration context expiry, EPR enumeration modes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from xprotect_go_simulator import soap
from xprotect_go_simulator.enumeration import ENUMERATION_TIMEOUT
from xprotect_go_simulator.host import CIMV2_ALL_URI, SERVICE_URI, SimulatedHost
from xprotect_go_simulator.query import WBEM_MAX_QUERY

S, A, N, W, F = soap.NS_SOAP, soap.NS_ADDRESSING, soap.NS_ENUMERATION, soap.NS_WSMAN, soap.NS_FAULT


class Clock:
    now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture(name='clock')
def clock_fixture():
    return Clock()


@pytest.fixture(name='host')
def host_fixture(clock):
    return SimulatedHost('xpgo-09', clock=clock)


def send(host, action, uri, body=''):
    status, reply = host.handle(soap.build_request(action, uri, body), 'xpgo-admin')
    return status, ET.fromstring(reply)


def fault_of(root):
    element = root.find('{%s}Body/{%s}Fault' % (S, S))
    return (
        element.findtext('{%s}Code/{%s}Value' % (S, S)),
        element.findtext('{%s}Code/{%s}Subcode/{%s}Value' % (S, S, S)),
        int(element.find('{%s}Detail/{%s}WSManFault' % (S, F)).get('Code')),
        element,
    )


def query_of_length(length):
    head, tail = "SELECT Name FROM Win32_Service WHERE Name <> '", "'"
    return head + 'x' * (length - len(head) - len(tail)) + tail


def enumerate_body(wql=None, mode=None, max_elements=None, optimize=True):
    parts = ['<w:OptimizeEnumeration/>' if optimize else '']
    if max_elements is not None:
        parts.append('<w:MaxElements>%d</w:MaxElements>' % max_elements)
    if mode is not None:
        parts.append('<w:EnumerationMode>%s</w:EnumerationMode>' % mode)
    if wql is not None:
        parts.append('<w:Filter Dialect="%s">%s</w:Filter>' % (soap.WQL_DIALECT, escape(wql)))
    return '<n:Enumerate>%s</n:Enumerate>' % ''.join(parts)


def all_items(host, uri=SERVICE_URI, **body):
    """Every item of an enumeration (Enumerate, then Pull until EndOfSequence)."""
    status, root = send(host, soap.ACTION_ENUMERATE, uri, enumerate_body(**body))
    assert status == 200, ET.tostring(root)
    response = root.find('{%s}Body/{%s}EnumerateResponse' % (S, N))
    items = list(response.find('{%s}Items' % W) if response.find('{%s}Items' % W) is not None else [])
    context = response.findtext('{%s}EnumerationContext' % N)
    while response.find('{%s}EndOfSequence' % W) is None and response.find('{%s}EndOfSequence' % N) is None:
        status, root = send(host, soap.ACTION_PULL, uri, soap.pull_body(context, 20))
        assert status == 200, ET.tostring(root)
        response = root.find('{%s}Body/{%s}PullResponse' % (S, N))
        items += list(response.find('{%s}Items' % N))
        context = response.findtext('{%s}EnumerationContext' % N)
    return items


# WQL length: WBEM_MAX_QUERY


def test_a_query_of_16384_characters_runs(host):
    assert WBEM_MAX_QUERY == 16384
    items = all_items(host, uri=CIMV2_ALL_URI, wql=query_of_length(16384), max_elements=100)
    assert len(items) == len(host.snapshot())


def test_a_longer_query_is_refused_the_way_wmi_refuses_a_query(host):
    query = query_of_length(16385)
    status, root = send(host, soap.ACTION_ENUMERATE, CIMV2_ALL_URI, enumerate_body(wql=query))
    assert status == 500
    code, subcode, hresult, element = fault_of(root)
    assert (code, subcode, hresult) == ('s:Sender', 'n:CannotProcessFilter', 2150858778)
    assert root.findtext('{%s}Header/{%s}Action' % (S, A)) == N + '/fault'
    detail = element.find('{%s}Detail/{%s}WSManFault' % (S, F))
    assert '16384' in ET.tostring(detail, encoding='unicode')
    assert detail.find('.//{*}ParameterInfo').text == query, 'WMI names the query it refused'


# Enumeration context expiry


def _open_context(host):
    status, root = send(host, soap.ACTION_ENUMERATE, SERVICE_URI, enumerate_body(max_elements=1))
    assert status == 200
    return root.findtext('{%s}Body/{%s}EnumerateResponse/{%s}EnumerationContext' % (S, N, N))


def _pull_fault(host, context):
    status, root = send(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context))
    assert status == 500, 'the Pull should have been refused'
    return fault_of(root)[:3]


INVALID_CONTEXT = ('s:Receiver', 'n:InvalidEnumerationContext', 2150858779)


def test_contexts_live_as_long_as_windows_default(host, clock):
    assert host.enumeration_timeout == ENUMERATION_TIMEOUT == 240.0
    context = _open_context(host)
    clock.now += 239
    assert send(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(context))[0] == 200
    context = _open_context(host)
    clock.now += 240
    assert _pull_fault(host, context) == INVALID_CONTEXT


def test_the_lifetime_is_set_per_host(host, clock):
    host.enumeration_timeout = 5
    context = _open_context(host)
    clock.now += 5
    assert _pull_fault(host, context) == INVALID_CONTEXT
    assert host.enumerations() == {'open': 0, 'timeout': 5.0}


def test_a_zero_lifetime_expires_every_context_at_once(host):
    host.enumeration_timeout = 0
    assert _pull_fault(host, _open_context(host)) == INVALID_CONTEXT
    assert _pull_fault(host, _open_context(host)) == INVALID_CONTEXT, 'a fresh enumeration expires as well'


def test_expire_now_invalidates_open_contexts_once(host):
    first, second = _open_context(host), _open_context(host)
    assert host.enumerations()['open'] == 2
    assert host.expire_enumerations() == 2
    assert _pull_fault(host, first) == INVALID_CONTEXT
    assert _pull_fault(host, second) == INVALID_CONTEXT
    # A client that enumerates again gets a context that works.
    assert send(host, soap.ACTION_PULL, SERVICE_URI, soap.pull_body(_open_context(host)))[0] == 200


def test_reset_restores_the_default_lifetime(host):
    host.enumeration_timeout = 0
    host.reset()
    assert host.enumeration_timeout == ENUMERATION_TIMEOUT


# EPR enumeration modes (DSP0226 8.7)


def _selector(epr):
    parameters = epr.find('{%s}ReferenceParameters' % A)
    selectors = parameters.findall('{%s}SelectorSet/{%s}Selector' % (W, W))
    assert [selector.get('Name') for selector in selectors] == ['Name']
    return parameters.findtext('{%s}ResourceURI' % W), selectors[0].text


@pytest.mark.parametrize('optimize', [True, False])
def test_enumerate_epr_answers_endpoint_references(host, optimize):
    items = all_items(host, mode='EnumerateEPR', max_elements=7, optimize=optimize)
    assert {item.tag for item in items} == {'{%s}EndpointReference' % A}
    for item in items:
        assert item.findtext('{%s}Address' % A) == soap.ANONYMOUS
        assert _selector(item)[0] == SERVICE_URI
    assert sorted(_selector(item)[1] for item in items) == sorted(host.snapshot())


def test_enumerate_object_and_epr_answers_items_holding_both(host):
    items = all_items(
        host,
        uri=CIMV2_ALL_URI,
        wql="SELECT * FROM Win32_Service WHERE Name LIKE 'Milestone%'",
        mode='EnumerateObjectAndEPR',
        max_elements=50,
    )
    assert items and {item.tag for item in items} == {'{%s}Item' % W}
    for item in items:
        instance, epr = list(item)
        assert instance.tag == '{%s}Win32_Service' % SERVICE_URI
        assert epr.tag == '{%s}EndpointReference' % A
        assert _selector(epr) == (SERVICE_URI, instance.findtext('{%s}Name' % SERVICE_URI))


def test_an_epr_gets_its_instance(host):
    (epr,) = all_items(host, uri=CIMV2_ALL_URI, wql="SELECT Name FROM Win32_Service WHERE Name = 'Spooler'", mode='EnumerateEPR')
    uri, name = _selector(epr)
    status, reply = host.handle(soap.build_request(soap.ACTION_GET, uri, selectors={'Name': name}), 'xpgo-admin')
    assert status == 200
    assert ET.fromstring(reply).find('.//{%s}Name' % SERVICE_URI).text == 'Spooler'


def test_an_unknown_enumeration_mode_is_an_unsupported_feature(host):
    status, root = send(host, soap.ACTION_ENUMERATE, SERVICE_URI, enumerate_body(mode='EnumerateEverything'))
    assert status == 500
    code, subcode, hresult, element = fault_of(root)
    assert (subcode, hresult) == ('w:UnsupportedFeature', 2150858818)
    assert element.findtext('{%s}Detail/{%s}FaultDetail' % (S, W)).endswith('/faultDetail/EnumerationMode')
