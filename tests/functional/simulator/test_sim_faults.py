# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Wire-level faults, as plain requests, pywinrm and pypsrp clients observe them."""

import socket
import xml.etree.ElementTree as ET

import pytest
import requests
from pypsrp.wsman import WSMan
from winrm.exceptions import WSManFaultError


@pytest.fixture
def http_fleet(sim_fleet):
    """Basic over http: the faults are visible without TLS in the way."""
    return sim_fleet(auth='basic', scheme='http')


def _post(wsman, fleet, running, message, timeout=10):
    session = wsman.plain_session()
    return session.post(
        running.endpoint,
        data=message.encode(),
        auth=(fleet.username, fleet.password),
        timeout=timeout,
        headers={'Content-Type': 'application/soap+xml;charset=UTF-8'},
    )


def _connect(running):
    return socket.create_connection((running.address, running.port), timeout=5)


def test_refuse_closes_the_port_and_clearing_reopens_it(http_fleet, wsman, sim_control):
    running = http_fleet.hosts[0]
    port = running.port
    protocol = wsman.protocol_for(http_fleet)
    assert wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')

    sim_control.post(running.control_url + '/faults', {'refuse': True})
    with pytest.raises(ConnectionRefusedError):
        _connect(running).close()
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service'))

    sim_control.delete(running.control_url + '/faults')
    assert running.port == port
    assert wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')


def test_reset_sends_rst_mid_request(http_fleet, wsman):
    running = http_fleet.hosts[0]
    running.faults.reset = True
    sock = _connect(running)
    try:
        sock.sendall(b'POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n<x/>')
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    finally:
        sock.close()

    protocol = wsman.protocol_for(http_fleet)
    with pytest.raises(requests.exceptions.ConnectionError) as raised:
        protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service'))
    assert 'reset' in str(raised.value).lower()
    assert running.stats.as_dict()['soap_requests'] == 0


def test_delay_makes_a_short_client_timeout_expire(http_fleet, wsman):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    message = wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service')
    # No answer can come for 60 s (the fleet's stop ends the wait at teardown): only the client's own
    # 0.5 s read timeout can end this request.
    running.faults.delay = 60
    with pytest.raises(requests.exceptions.ReadTimeout):
        _post(wsman, http_fleet, running, message, timeout=(5, 0.5))
    # The simulator's record: the request came in and nothing went out (the delay is still being waited out).
    stats = running.stats.as_dict()
    assert (stats['http_requests'], stats['http_responses'], stats['delayed_answers']) == (1, 0, 0)

    running.faults.delay = 0.3
    assert _post(wsman, http_fleet, running, message).status_code == 200
    stats = running.stats.as_dict()
    # One answer held back 0.3 s, waited out in full, then sent (the first request still waits).
    assert (stats['http_requests'], stats['http_responses'], stats['delayed_answers'], stats['delayed_seconds']) == (2, 1, 1, 0.3)


def test_fleet_wide_delay_applies_to_every_request(sim_fleet, wsman):
    fleet = sim_fleet(count=2, auth='basic', scheme='http', delay=0.2)
    message = wsman.enumerate_message(wsman.protocol_for(fleet), 'SELECT Name FROM Win32_Service')
    for running in fleet.hosts:
        assert _post(wsman, fleet, running, message).status_code == 200
        stats = running.stats.as_dict()
        assert (stats['http_responses'], stats['delayed_answers'], stats['delayed_seconds']) == (1, 1, 0.2)


@pytest.mark.parametrize('auth', ['basic', 'ntlm'])
def test_http_500_is_a_wsman_internal_error_fault(sim_fleet, wsman, auth):
    fleet = sim_fleet(auth=auth)
    running = fleet.hosts[0]
    running.faults.http_500 = True
    protocol = wsman.protocol_for(fleet)
    with pytest.raises(WSManFaultError) as raised:
        protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service'))
    fault = raised.value
    assert fault.code == 500
    assert fault.fault_subcode == 'w:InternalError'
    assert fault.wsman_fault_code == 2150859174
    assert running.stats.as_dict()['by_action'] == {'Enumerate': 1}


def test_http_500_relates_to_the_request(http_fleet, wsman):
    running = http_fleet.hosts[0]
    running.faults.http_500 = True
    protocol = wsman.protocol_for(http_fleet)
    message = wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service')
    response = _post(wsman, http_fleet, running, message)
    assert response.status_code == 500
    message_id = ET.fromstring(message).find('.//{http://schemas.xmlsoap.org/ws/2004/08/addressing}MessageID').text
    relates_to = ET.fromstring(response.content).find('.//{http://schemas.xmlsoap.org/ws/2004/08/addressing}RelatesTo').text
    assert relates_to == message_id


def _pypsrp(fleet, running):
    return WSMan(
        running.address,
        port=running.port,
        ssl=running.scheme == 'https',
        auth='basic',
        username=fleet.username,
        password=fleet.password,
        cert_validation=fleet.ca_path or False,
        encryption='never' if running.scheme == 'http' else 'auto',
    )


def _enumerate_body():
    enumerate_element = ET.Element('{http://schemas.xmlsoap.org/ws/2004/09/enumeration}Enumerate')
    ET.SubElement(enumerate_element, '{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}OptimizeEnumeration')
    ET.SubElement(enumerate_element, '{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}MaxElements').text = '32000'
    ET.SubElement(
        enumerate_element, '{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}Filter', Dialect='http://schemas.microsoft.com/wbem/wsman/1/WQL'
    ).text = 'SELECT * FROM Win32_Service'
    return enumerate_element


@pytest.mark.parametrize('kind', ['garbage', 'truncated'])
def test_malformed_bodies_fail_to_parse_in_clients(http_fleet, wsman, kind):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    message = wsman.enumerate_message(protocol, 'SELECT * FROM Win32_Service')
    whole = _post(wsman, http_fleet, running, message).content

    running.faults.malformed = kind
    response = _post(wsman, http_fleet, running, message)
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/soap+xml;charset=UTF-8'
    if kind == 'truncated':
        # the same reply cut short (its MessageID differs from the whole one's)
        assert response.content.startswith(b'<s:Envelope') and len(response.content) < len(whole)
    with pytest.raises(ET.ParseError):
        ET.fromstring(protocol.send_message(message))
    with _pypsrp(http_fleet, running) as client, pytest.raises(ET.ParseError):
        client.enumerate('http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*', _enumerate_body())


def test_endless_enumeration_is_passed_to_the_host(http_fleet, sim_control):
    running = http_fleet.hosts[0]
    assert not running.state.endless_enumeration
    faults = sim_control.post(running.control_url + '/faults', {'endless_enumeration': True})
    assert faults['endless_enumeration'] is True
    assert running.state.endless_enumeration is True
    sim_control.delete(running.control_url + '/faults')
    assert running.state.endless_enumeration is False


def test_endless_enumeration_never_ends_a_pull_sequence(http_fleet, wsman):
    running = http_fleet.hosts[0]
    running.faults.endless_enumeration = True
    protocol = wsman.protocol_for(http_fleet)
    dummy, context, end = wsman.page_of(protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service', 5)))
    for dummy in range(5):
        assert context and not end
        dummy, context, end = wsman.page_of(protocol.send_message(wsman.pull_message(protocol, context, 5)))
    assert context and not end


# ---- lose_answer: the request is carried out, its answer is lost ------------------------------------

IMAGE_SERVER = 'Milestone Image Server'


def _lose(running, sim_control, **lose):
    faults = sim_control.post(running.control_url + '/faults', {'lose_answer': dict({'method': 'StopService'}, **lose)})
    assert faults['lose_answer']['how'] == lose['how']


def _carried_out_and_lost(running, sim_control, method='StopService', state='Stop Pending'):
    """The simulator's record: the call changed the service, its answer was lost, and the fault is spent."""
    assert any(event['service'] == IMAGE_SERVER and event['state'] == state for event in running.state.history), 'not carried out'
    stats = sim_control.get(running.control_url + '/stats')
    assert stats['by_action'].get(method) == 1 and stats['lost_answers'] == {method: 1}
    assert sim_control.get(running.control_url + '/faults')['lose_answer'] is None, 'times: 1 is spent'
    return stats


@pytest.mark.parametrize('auth', ['basic', 'ntlm'])
def test_lose_answer_reset_carries_out_the_call_then_resets(sim_fleet, wsman, sim_control, auth):
    fleet = sim_fleet(auth=auth, scheme='http')  # over http the client sees the RST itself (ntlm: encrypted messages)
    running = fleet.hosts[0]
    protocol = wsman.protocol_for(fleet, message_encryption='auto')
    _lose(running, sim_control, how='reset', service=IMAGE_SERVER)
    with pytest.raises(requests.exceptions.ConnectionError) as raised:
        protocol.send_message(wsman.invoke_message(protocol, 'StopService', IMAGE_SERVER))
    assert 'reset' in str(raised.value).lower()
    _carried_out_and_lost(running, sim_control)
    # The next answer is not lost: Windows says the service is already stopping (5: cannot accept control).
    reply = wsman.protocol_for(fleet).send_message(wsman.invoke_message(protocol, 'StopService', IMAGE_SERVER))
    assert b'<p:ReturnValue>5</p:ReturnValue>' in reply


def test_lose_answer_hold_keeps_the_answer_past_the_read_timeout(http_fleet, wsman, sim_control):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    _lose(running, sim_control, how='hold', hold_seconds=60)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _post(wsman, http_fleet, running, wsman.invoke_message(protocol, 'StopService', IMAGE_SERVER), timeout=(5, 0.5))
    stats = _carried_out_and_lost(running, sim_control)
    assert stats['http_responses'] == 0, 'nothing was sent back'
    # Other requests are answered meanwhile, on other connections.
    assert wsman.enumerate_all(protocol, "SELECT State FROM Win32_Service WHERE Name = '%s'" % IMAGE_SERVER)


def test_lose_answer_hold_closes_without_answering_once_the_hold_ends(http_fleet, wsman, sim_control):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    _lose(running, sim_control, how='hold', hold_seconds=0.2, method='StartService')
    running.state.configure(IMAGE_SERVER, State='Stopped')
    # The client waits longer than the hold: what ends its request is the close, without an answer.
    with pytest.raises(requests.exceptions.ConnectionError) as raised:
        _post(wsman, http_fleet, running, wsman.invoke_message(protocol, 'StartService', IMAGE_SERVER), timeout=(5, 30))
    assert not isinstance(raised.value, requests.exceptions.ReadTimeout)
    stats = _carried_out_and_lost(running, sim_control, 'StartService', 'Start Pending')
    assert stats['http_responses'] == 0


def test_lose_answer_garble_carries_out_the_call_then_sends_garbage(http_fleet, wsman, sim_control):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    _lose(running, sim_control, how='garble')
    response = _post(wsman, http_fleet, running, wsman.invoke_message(protocol, 'StopService', IMAGE_SERVER))
    assert response.status_code == 200 and response.headers['Content-Type'] == 'application/soap+xml;charset=UTF-8'
    with pytest.raises(ET.ParseError):
        ET.fromstring(response.content)
    _carried_out_and_lost(running, sim_control)


def test_lose_answer_of_a_status_read(http_fleet, wsman, sim_control):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    _lose(running, sim_control, method='Enumerate', how='garble', times=2)
    for _dummy in range(2):
        with pytest.raises(ET.ParseError):
            wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')
    assert wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service'), 'two answers lost, the third one comes'
    assert running.stats.as_dict()['lost_answers'] == {'Enumerate': 2}


def test_lose_answer_takes_only_the_method_and_service_named(http_fleet, wsman, sim_control):
    running = http_fleet.hosts[0]
    protocol = wsman.protocol_for(http_fleet)
    _lose(running, sim_control, how='reset', service='Milestone Log Check Service')
    assert wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')
    assert b'<p:ReturnValue>0</p:ReturnValue>' in protocol.send_message(wsman.invoke_message(protocol, 'StopService', IMAGE_SERVER))
    assert running.stats.as_dict()['lost_answers'] == {}
    assert sim_control.get(running.control_url + '/faults')['lose_answer']['times'] == 1, 'still waiting for its answer'
