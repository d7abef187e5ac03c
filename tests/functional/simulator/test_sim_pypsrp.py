# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pypsrp, an independent WS-Man client, drives Enumerate, Pull, Get and Invoke against the simulator."""

import xml.etree.ElementTree as ET

import pytest
from pypsrp.wsman import WSMan, SelectorSet

ENUMERATION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration'
WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'
CIMV2_ALL = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*'
SERVICE_URI = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'
WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'


def _local(tag):
    return tag.rsplit('}', 1)[-1]


def _enumerate_body(wql, max_elements):
    body = ET.Element('{%s}Enumerate' % ENUMERATION)
    ET.SubElement(body, '{%s}OptimizeEnumeration' % WSMAN)
    ET.SubElement(body, '{%s}MaxElements' % WSMAN).text = str(max_elements)
    ET.SubElement(body, '{%s}Filter' % WSMAN, Dialect=WQL).text = wql
    return body


def _pull_body(context, max_elements):
    body = ET.Element('{%s}Pull' % ENUMERATION)
    ET.SubElement(body, '{%s}EnumerationContext' % ENUMERATION).text = context
    ET.SubElement(body, '{%s}MaxElements' % ENUMERATION).text = str(max_elements)
    return body


def _page(body):
    items = [
        {_local(prop.tag): prop.text for prop in item} for element in body.iter() if _local(element.tag) == 'Items' for item in element
    ]
    context = next((element.text for element in body.iter() if _local(element.tag) == 'EnumerationContext'), None)
    return items, context or None, any(_local(element.tag) == 'EndOfSequence' for element in body.iter())


def _service_selector(name):
    selectors = SelectorSet()
    selectors.add_option('Name', name)
    return selectors


@pytest.fixture(params=['basic-https', 'ntlm-http'])
def client(request, sim_fleet):
    """(pypsrp WSMan, RunningHost): basic over https with the CA, and NTLM with message encryption."""
    if request.param == 'basic-https':
        fleet = sim_fleet(auth='basic')
        options = {'ssl': True, 'auth': 'basic', 'cert_validation': fleet.ca_path}
    else:
        fleet = sim_fleet(auth='ntlm')
        options = {'ssl': False, 'auth': 'ntlm', 'encryption': 'always'}
    running = fleet.hosts[0]
    with WSMan(running.address, port=running.port, username=fleet.username, password=fleet.password, **options) as wsman:
        yield wsman, running


def test_enumerate_and_pull_every_service(client):
    wsman, running = client
    items, context, end = _page(wsman.enumerate(CIMV2_ALL, _enumerate_body('SELECT * FROM Win32_Service', 4)))
    pulls = 0
    while not end:
        assert context, 'a page that is not the last must carry an EnumerationContext'
        page, context, end = _page(wsman.pull(CIMV2_ALL, _pull_body(context, 4)))
        items += page
        pulls += 1
        assert pulls < 50
    assert pulls >= 1
    snapshot = running.state.snapshot()
    assert sorted(item['Name'] for item in items) == sorted(snapshot)
    for item in items:
        assert item['State'] == snapshot[item['Name']]['State']
    assert running.stats.as_dict()['by_action'] == {'Enumerate': 1, 'Pull': pulls}


def test_get_a_service_by_name(client):
    wsman = client[0]
    body = wsman.get(SERVICE_URI, selector_set=_service_selector('Milestone Image Server'))
    instance = next(iter(body))
    assert _local(instance.tag) == 'Win32_Service'
    properties = {_local(prop.tag): prop.text for prop in instance}
    assert properties['Name'] == 'Milestone Image Server'
    assert properties['PathName'] == '"C:\\Program Files (x86)\\Milestone\\XProtect Go\\ImageServer.exe"'


def test_invoke_start_service(client):
    wsman, running = client
    name = 'Milestone Log Check Service'
    running.state.configure(name, State='Stopped')
    method_input = ET.Element('{%s}StartService_INPUT' % SERVICE_URI)
    body = wsman.invoke(SERVICE_URI + '/StartService', SERVICE_URI, method_input, selector_set=_service_selector(name))
    output = body.find('{http://www.w3.org/2003/05/soap-envelope}Body/{%s}StartService_OUTPUT' % SERVICE_URI)
    assert output is not None
    assert output.find('{%s}ReturnValue' % SERVICE_URI).text == '0'
    assert running.state.snapshot()[name]['State'] in ('Start Pending', 'Running')

    # Starting it again: 10, the service is already running (once it has started).
    running.state.configure(name, State='Running')
    again = wsman.invoke(
        SERVICE_URI + '/StartService', SERVICE_URI, ET.Element('{%s}StartService_INPUT' % SERVICE_URI), selector_set=_service_selector(name)
    )
    assert again.find('.//{%s}ReturnValue' % SERVICE_URI).text == '10'


ADDRESSING = 'http://schemas.xmlsoap.org/ws/2004/08/addressing'


def _epr_enumerate_body(mode, wql):
    body = _enumerate_body(wql, 50)
    ET.SubElement(body, '{%s}EnumerationMode' % WSMAN).text = mode
    return body


def _epr_selector(epr):
    parameters = epr.find('{%s}ReferenceParameters' % ADDRESSING)
    selector = parameters.find('{%s}SelectorSet/{%s}Selector' % (WSMAN, WSMAN))
    return parameters.findtext('{%s}ResourceURI' % WSMAN), selector.get('Name'), selector.text


def _all_items(wsman, body):
    """Every item element of an enumeration (pypsrp's enumerate, then pull), as ElementTree elements."""
    response = wsman.enumerate(CIMV2_ALL, body)
    items = [item for element in response.iter() if _local(element.tag) == 'Items' for item in element]
    context = next((element.text for element in response.iter() if _local(element.tag) == 'EnumerationContext'), None)
    while context:
        response = wsman.pull(CIMV2_ALL, _pull_body(context, 50))
        items += [item for element in response.iter() if _local(element.tag) == 'Items' for item in element]
        context = next((element.text for element in response.iter() if _local(element.tag) == 'EnumerationContext'), None)
    return items


def test_epr_enumeration_gives_references_a_get_can_follow(client):
    wsman, running = client
    items = _all_items(wsman, _epr_enumerate_body('EnumerateEPR', "SELECT Name FROM Win32_Service WHERE Name LIKE 'Milestone%'"))
    assert items and all(item.tag == '{%s}EndpointReference' % ADDRESSING for item in items)
    names = []
    for epr in items:
        uri, key, name = _epr_selector(epr)
        assert (uri, key) == (SERVICE_URI, 'Name')
        # The reference is usable as it is: its resource URI and selector set address the instance.
        instance = next(iter(wsman.get(uri, selector_set=_service_selector(name))))
        assert instance.find('{%s}Name' % SERVICE_URI).text == name
        names.append(name)
    assert sorted(names) == sorted(name for name in running.state.snapshot() if name.startswith('Milestone'))


def test_object_and_epr_enumeration_gives_both_in_each_item(client):
    wsman, running = client
    items = _all_items(wsman, _epr_enumerate_body('EnumerateObjectAndEPR', 'SELECT * FROM Win32_Service'))
    assert len(items) == len(running.state.snapshot())
    for item in items:
        assert item.tag == '{%s}Item' % WSMAN
        instance, epr = list(item)
        assert _local(instance.tag) == 'Win32_Service'
        assert _epr_selector(epr)[2] == instance.find('{%s}Name' % SERVICE_URI).text
