# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulator run in users' CI: the control endpoint's token, hostile requests, stalled clients, 401 headers."""

import json
import socket
import ssl
import urllib.error
import urllib.request

import pytest
from winrm.exceptions import WSManFaultError

from xprotect_go_simulator import ControlClient, ControlError, TlsMaterial, WsmanListener
from xprotect_go_simulator.control import REQUEST_TIMEOUT, ControlServer, known_token
from xprotect_go_simulator.handler import REQUEST_TIMEOUT as WSMAN_REQUEST_TIMEOUT

SHORT_TIMEOUT = 0.5  # the tests shorten the stall timeout; the default is checked to be at most 10 s
CLIENT_WAIT = 30  # how long a test waits for the server to drop a stalled connection (a bound, not a measure)


def _raw(url, method='GET', body=None, headers=None):
    """(status, headers, parsed JSON body) of one request, with no token unless headers give one."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


@pytest.fixture
def fleet(sim_fleet):
    return sim_fleet(count=1, auth='basic', scheme='http')


# The control token


@pytest.mark.parametrize(
    'headers',
    [{}, {'Authorization': 'Bearer not-the-token'}, {'Authorization': 'Basic eHBnbzp4cGdv'}],
    ids=['none', 'wrong', 'other-scheme'],
)
def test_the_control_endpoint_refuses_requests_without_its_token(fleet, headers):
    for method, path in (('GET', '/hosts'), ('POST', '/hosts/xpgo-001/faults'), ('DELETE', '/hosts/xpgo-001/faults')):
        status, answer_headers, body = _raw(fleet.control_url + path, method, b'{"refuse": true}' if method == 'POST' else None, headers)
        assert status == 401, path
        assert set(body) == {'error'} and '\n' not in body['error']
        assert answer_headers['WWW-Authenticate'].startswith('Bearer')
    assert fleet.hosts[0].faults.refuse is False, 'a refused request changed nothing'


def test_the_token_opens_the_control_endpoint(fleet):
    status, _headers, hosts = _raw(fleet.control_url + '/hosts', headers={'Authorization': 'Bearer ' + fleet.control_token})
    assert status == 200 and hosts[0]['name'] == 'xpgo-001'
    assert fleet.control_client().get('/hosts') == hosts
    assert ControlClient(token=fleet.control_token).get(fleet.control_url + '/hosts') == hosts
    assert fleet.state_dict()['control_token'] == fleet.control_token
    assert fleet.inventory()['all']['children']['xprotect']['vars']['xprotect_go_simulator_control_token'] == fleet.control_token


def test_every_fleet_has_a_token_of_its_own(sim_fleet):
    first, second = sim_fleet(1), sim_fleet(1)
    assert first.control_token != second.control_token and len(first.control_token) >= 32
    with pytest.raises(ControlError) as refused:
        ControlClient(token=first.control_token).get(second.control_url + '/hosts')
    assert refused.value.status == 401


def test_a_stopped_fleet_forgets_its_token(sim_fleet):
    fleet = sim_fleet(1)
    url = fleet.control_url
    fleet.stop()
    assert known_token(url) is None


# Hostile bodies


@pytest.mark.parametrize(
    'body',
    [b'{not json', b'\xff\xfe\x00garbage', b'[' * 10000 + b']' * 10000, b'{"a":' * 10000 + b'1' + b'}' * 10000],
    ids=['malformed', 'not-utf8', 'nested-lists', 'nested-objects'],
)
def test_bad_json_is_a_one_line_400_and_no_traceback(fleet, capfd, body):
    status, _headers, answer = _raw(
        fleet.hosts[0].control_url + '/faults',
        'POST',
        body,
        {'Authorization': 'Bearer ' + fleet.control_token, 'Content-Type': 'application/json'},
    )
    assert status == 400
    assert set(answer) == {'error'} and answer['error'].startswith('the request body is not JSON')
    assert '\n' not in answer['error']
    assert fleet.control_client().get('/hosts/xpgo-001/faults')['refuse'] is False
    captured = capfd.readouterr()
    assert 'Traceback' not in captured.err + captured.out


# Stalled requests


def _stall(address, port, payload):
    """A connection that sends payload (headers announcing more body than it sends) and then waits."""
    sock = socket.create_connection((address, port), timeout=CLIENT_WAIT)
    sock.sendall(payload)
    return sock


def _dropped(sock):
    """True once the server closed the connection without an answer (recv ends or resets)."""
    try:
        return sock.recv(65536) == b''
    except ConnectionResetError:
        return True
    finally:
        sock.close()


def test_the_default_stall_timeouts_are_at_most_ten_seconds():
    assert REQUEST_TIMEOUT <= 10 and WSMAN_REQUEST_TIMEOUT <= 10


def test_a_stalled_control_request_is_dropped_while_others_are_served(fleet):
    control = ControlServer(fleet, request_timeout=SHORT_TIMEOUT).start()
    try:
        host, port = control.url.rsplit('/', 1)[-1].split(':')
        stalled = _stall(
            host,
            int(port),
            b'POST /hosts/xpgo-001/faults HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n'
            b'Content-Length: 100\r\n\r\n{"refuse":' % control.token.encode(),
        )
        headers_only = _stall(host, int(port), b'GET /hosts HTTP/1.1\r\nHost: x\r\n')
        assert ControlClient(control.url, token=control.token).get('/hosts')[0]['name'] == 'xpgo-001'
        assert _dropped(stalled) and _dropped(headers_only)
    finally:
        control.stop()
    assert fleet.hosts[0].faults.refuse is False


@pytest.mark.parametrize('scheme', ['http', 'https'])
def test_a_stalled_wsman_request_is_dropped_while_others_are_served(tmp_path, wsman, scheme):
    class Host:
        name = 'xpgo-stall'
        calls = []

        def handle(self, body, username):
            self.calls.append(body)
            return 200, b'<ok/>'

    tls = TlsMaterial(str(tmp_path), ['127.0.0.11']) if scheme == 'https' else None
    listener = WsmanListener(
        Host(), address='127.0.0.11', scheme=scheme, auth='basic', tls=tls, users={'xpgo-admin': 'pw'}, body_timeout=SHORT_TIMEOUT
    ).start()
    try:
        sock = socket.create_connection((listener.address, listener.port), timeout=CLIENT_WAIT)
        if scheme == 'https':
            sock = ssl.create_default_context(cafile=tls.ca_path).wrap_socket(sock, server_hostname=listener.address)
        sock.sendall(
            b'POST /wsman HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eHBnby1hZG1pbjpwdw==\r\n'
            b'Content-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 5000\r\n\r\n<s:Envelope'
        )
        session = wsman.plain_session()
        session.auth = ('xpgo-admin', 'pw')
        answer = session.post(
            listener.endpoint,
            data=b'<x/>',
            verify=tls.ca_path if tls else True,
            timeout=10,
            headers={'Content-Type': 'application/soap+xml;charset=UTF-8'},
        )
        assert answer.status_code == 200, 'another client is served while one stalls'
        assert _dropped(sock)
    finally:
        listener.stop()
    assert Host.calls == [b'<x/>'], 'the stalled request never reached the host'


# 401 answers


@pytest.mark.parametrize(
    'auth, challenges',
    [
        (('basic',), ['Basic realm="WSMAN"']),
        (('ntlm',), ['Negotiate']),
        (('ntlm', 'basic'), ['Negotiate', 'Basic realm="WSMAN"']),
        (('basic', 'ntlm'), ['Negotiate', 'Basic realm="WSMAN"']),
    ],
)
def test_401_offers_each_enabled_authentication_in_windows_order(tmp_path, wsman, auth, challenges):
    class Host:
        name = 'xpgo-401'

        @staticmethod
        def handle(body, username):
            raise AssertionError('an unauthenticated request reached the host')

    listener = WsmanListener(Host(), address='127.0.0.12', scheme='http', auth=auth, users={'xpgo-admin': 'pw'}).start()
    try:
        request = (
            b'POST /wsman HTTP/1.1\r\nHost: 127.0.0.12\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 4\r\n\r\n<x/>'
        )
        raw = wsman.raw_exchange(listener, request)
    finally:
        listener.stop()
    head = raw.split(b'\r\n\r\n', 1)[0].decode('latin-1').split('\r\n')
    headers = [tuple(part.strip() for part in line.split(':', 1)) for line in head[1:]]
    assert head[0] == 'HTTP/1.1 401 '
    assert [value for name, value in headers if name == 'WWW-Authenticate'] == challenges
    assert ('Server', 'Microsoft-HTTPAPI/2.0') in headers and ('Content-Length', '0') in headers
    assert [name for name, _value in headers if name != 'WWW-Authenticate'] == ['Server', 'Date', 'Content-Length']


# Enumeration contexts through the control endpoint


def test_enumeration_contexts_are_driven_through_the_control_endpoint(fleet, wsman):
    control = fleet.control_client()
    protocol = wsman.protocol_for(fleet)
    _items, context, _end = wsman.page_of(protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service', 2)))
    assert control.get('/hosts/xpgo-001/enumerations') == {'open': 1, 'timeout': 240.0}
    assert control.post('/hosts/xpgo-001/enumerations/expire') == {'expired': 1}
    with pytest.raises(WSManFaultError) as expired:
        protocol.send_message(wsman.pull_message(protocol, context, 2))
    assert expired.value.wsman_fault_code == 2150858779
    assert control.post('/hosts/xpgo-001/faults', {'enumeration_timeout': 0})['enumeration_timeout'] == 0.0
    _items, context, _end = wsman.page_of(protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service', 2)))
    with pytest.raises(WSManFaultError):
        protocol.send_message(wsman.pull_message(protocol, context, 2))
    control.delete('/hosts/xpgo-001/faults')
    assert control.get('/hosts/xpgo-001/enumerations')['timeout'] == 240.0
    assert len(wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service', 2)) == len(fleet.hosts[0].state.snapshot())
    with pytest.raises(ControlError) as bad:
        control.post('/hosts/xpgo-001/faults', {'enumeration_timeout': -1})
    assert bad.value.status == 400
