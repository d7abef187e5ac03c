# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulator's listener as WinRM clients see it: authentication, encryption, TLS, HTTP shape."""

import base64
import email.utils
import struct

import pytest
import requests
import spnego
import spnego.exceptions
import yaml
from winrm.exceptions import InvalidCredentialsError

from tests.helpers import WAYS_IN, tasks_by_way

from xprotect_go_simulator import Fleet, TlsMaterial, WsmanListener
from xprotect_go_simulator.auth import NTLM_USERS, decrypt_message, encrypt_message, ntlm_authenticate_names


def test_ntlm_over_http_with_message_encryption_enumerates_services(sim_fleet, wsman):
    fleet = sim_fleet(auth='ntlm')
    running = fleet.hosts[0]
    assert fleet.scheme == 'http'
    protocol = wsman.protocol_for(fleet, message_encryption='auto')

    items = wsman.enumerate_all(protocol)

    assert protocol.transport.encryption is not None, 'pywinrm did not switch on message encryption'
    names = {item['Name'] for item in items}
    assert names == set(running.state.snapshot())
    assert wsman.MILESTONE_SERVICES <= names
    stats = running.stats.as_dict()
    # anonymous request, NTLM negotiate, NTLM authenticate (empty body), then the SOAP requests
    assert stats['http_requests'] == 3 + stats['soap_requests']
    assert stats['by_action']['Enumerate'] == 1


def test_ntlm_plain_messages_over_http_are_refused(sim_fleet, wsman):
    fleet = sim_fleet(auth='ntlm')
    protocol = wsman.protocol_for(fleet, message_encryption='never')
    with pytest.raises(InvalidCredentialsError):
        protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service'))
    assert fleet.hosts[0].stats.as_dict()['soap_requests'] == 0


@pytest.mark.parametrize('username', ['xpgo-admin', 'XPGO\\xpgo-admin', 'xpgo-admin@xpgo.example', 'XPGO-ADMIN'])
@pytest.mark.parametrize('auth', ['ntlm', 'basic'])
def test_user_name_forms_map_to_the_local_user(sim_fleet, wsman, auth, username):
    fleet = sim_fleet(auth=auth)
    protocol = wsman.protocol_for(fleet, username=username)
    items = wsman.enumerate_all(protocol, 'SELECT Name, State FROM Win32_Service')
    assert wsman.MILESTONE_SERVICES <= {item['Name'] for item in items}


def test_ntlm_over_https_without_message_encryption(sim_fleet, wsman):
    fleet = sim_fleet(auth='ntlm', scheme='https')
    protocol = wsman.protocol_for(fleet)
    items = wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')
    assert protocol.transport.encryption is None
    assert wsman.MILESTONE_SERVICES <= {item['Name'] for item in items}


def test_basic_over_https_validates_against_the_fleet_ca(sim_fleet, wsman):
    fleet = sim_fleet(auth='basic')
    assert fleet.hosts[0].endpoint.startswith('https://127.0.0.')
    protocol = wsman.protocol_for(fleet)
    assert protocol.transport.server_cert_validation == 'validate'
    items = wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')
    assert wsman.MILESTONE_SERVICES <= {item['Name'] for item in items}


def test_basic_over_https_without_the_ca_fails_with_an_ssl_error(sim_fleet, wsman):
    fleet = sim_fleet(auth='basic')
    protocol = wsman.protocol_for(fleet, ca_trust_path=None)
    with pytest.raises(requests.exceptions.SSLError):
        protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service'))
    assert fleet.hosts[0].stats.as_dict()['http_requests'] == 0


def test_certificate_authentication(sim_fleet, wsman):
    fleet = sim_fleet(auth='certificate')
    protocol = wsman.protocol_for(fleet)
    items = wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')
    assert wsman.MILESTONE_SERVICES <= {item['Name'] for item in items}

    # A certificate from the same CA for an account the host does not know is refused.
    cert, key = fleet.client_certificate('stranger')
    stranger = wsman.protocol_for(fleet, cert_pem=cert, cert_key_pem=key)
    with pytest.raises(InvalidCredentialsError):
        stranger.send_message(wsman.enumerate_message(stranger, 'SELECT Name FROM Win32_Service'))


def test_certificate_auth_without_a_client_certificate_is_refused(sim_fleet, wsman):
    fleet = sim_fleet(auth='certificate')
    session = wsman.plain_session()
    session.verify = fleet.ca_path
    response = session.post(
        fleet.hosts[0].endpoint,
        data=b'<x/>',
        timeout=10,
        headers={
            'Authorization': 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual',
            'Content-Type': 'application/soap+xml;charset=UTF-8',
        },
    )
    assert response.status_code == 401


@pytest.mark.parametrize('auth', ['basic', 'ntlm'])
def test_wrong_password_raises_invalid_credentials(sim_fleet, wsman, auth):
    fleet = sim_fleet(auth=auth)
    protocol = wsman.protocol_for(fleet, password='not-the-password')
    with pytest.raises(InvalidCredentialsError):
        protocol.send_message(wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service'))
    assert fleet.hosts[0].stats.as_dict()['soap_requests'] == 0


def _capture_headers(captures_dir):
    lines = (captures_dir / 'http-401-unauthorized-headers.txt').read_text(encoding='ascii').split('\n')
    return lines[0], [tuple(part.strip() for part in line.split(':', 1)) for line in lines[1:] if line.strip()]


def _parse_head(raw):
    head = raw.split(b'\r\n\r\n', 1)[0].decode('latin-1').split('\r\n')
    return head[0], [tuple(part.strip() for part in line.split(':', 1)) for line in head[1:]]


def test_401_headers_match_the_windows_capture(tmp_path, captures_dir, wsman):
    """Wrong Basic credentials on a listener offering Negotiate and Basic, compared header by header."""
    capture_status, capture_headers = _capture_headers(captures_dir)
    offered = {'Negotiate', 'Basic realm="WSMAN"'}
    expected = [(name, value) for name, value in capture_headers if name != 'WWW-Authenticate' or value in offered]
    tls = TlsMaterial(str(tmp_path), ['127.0.0.9'])

    class Host:
        name = 'xpgo-401'

        @staticmethod
        def handle(body, username):
            raise AssertionError('an unauthenticated request reached the host')

    listener = WsmanListener(
        Host(), address='127.0.0.9', scheme='https', auth=('ntlm', 'basic'), tls=tls, users={'xpgo-admin': 'right'}
    ).start()
    try:
        token = base64.b64encode(b'xpgo-admin:wrong').decode()
        request = (
            'POST /wsman HTTP/1.1\r\nHost: 127.0.0.9:%d\r\nAuthorization: Basic %s\r\n'
            'Content-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 4\r\n\r\n<x/>' % (listener.port, token)
        )
        raw = wsman.raw_exchange(listener, request.encode(), ca_path=tls.ca_path)
    finally:
        listener.stop()

    status, headers = _parse_head(raw)
    assert status == capture_status == 'HTTP/1.1 401 '
    assert [header[0] for header in headers] == [header[0] for header in expected]
    for (name, value), (_dummy, expected_value) in zip(headers, expected, strict=False):
        if name == 'Date':
            assert email.utils.parsedate_to_datetime(value).tzname() == 'UTC'
        else:
            assert value == expected_value, name
    assert raw.endswith(b'\r\n\r\n'), 'a 401 has no body'


def test_anonymous_request_is_challenged_without_closing(sim_fleet, wsman):
    fleet = sim_fleet(auth='ntlm')
    response = wsman.plain_session().post(fleet.hosts[0].endpoint, data=b'', timeout=10)
    assert response.status_code == 401
    assert response.reason == ''
    assert response.headers['WWW-Authenticate'] == 'Negotiate'
    assert response.headers['Server'] == 'Microsoft-HTTPAPI/2.0'
    assert 'Connection' not in response.headers


def test_http_shape_of_answers(sim_fleet, wsman):
    fleet = sim_fleet(auth='basic', scheme='http')
    running = fleet.hosts[0]
    session = wsman.plain_session()
    session.auth = (fleet.username, fleet.password)
    base = 'http://%s:%d' % (running.address, running.port)

    missing = session.post(base + '/other', data=b'<x/>', timeout=10)
    assert missing.status_code == 404
    assert missing.headers['Server'] == 'Microsoft-HTTPAPI/2.0'
    assert 'HTTP Error 404' in missing.text

    wrong_method = session.get(running.endpoint, timeout=10)
    assert wrong_method.status_code == 405
    assert wrong_method.headers['Allow'] == 'POST'

    protocol = wsman.protocol_for(fleet)
    message = wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service')
    answer = session.post(
        running.endpoint, data=message.encode(), timeout=10, headers={'Content-Type': 'application/soap+xml;charset=UTF-8'}
    )
    assert answer.status_code == 200
    assert answer.reason == ''
    assert answer.headers['Content-Type'] == 'application/soap+xml;charset=UTF-8'
    assert answer.headers['Server'] == 'Microsoft-HTTPAPI/2.0'
    assert wsman.MILESTONE_SERVICES <= {item['Name'] for item in wsman.page_of(answer.content)[0]}
    assert running.stats.as_dict()['http_requests'] == 3


@pytest.mark.parametrize('address', ['0.0.0.0', '192.168.1.10', 'localhost', '::', 'example.com'])
def test_listener_serves_only_loopback(address):
    with pytest.raises(ValueError, match='loopback'):
        WsmanListener(object(), address=address, users={'u': 'p'})
    with pytest.raises(ValueError, match='loopback'):
        Fleet(addresses=[address])


def _ntlm_pair():
    """An established (client, server) NTLM context pair, the server side as the listener makes it."""
    client = spnego.client('xpgo-admin', 'Pair-Pass-1!', hostname='127.0.0.2', service='HTTP', protocol='ntlm')
    server = spnego.server(protocol='ntlm', service='HTTP', options=spnego.NegotiateOptions.use_ntlm)
    challenge = server.step(client.step())
    authenticate = client.step(challenge)
    assert ntlm_authenticate_names(authenticate) == ('', 'xpgo-admin')
    with NTLM_USERS.credential('', 'xpgo-admin', 'Pair-Pass-1!'):
        server.step(authenticate)
    assert client.complete and server.complete
    return client, server


def _frame(client, message, flip_last_byte=False):
    """A request body framed as pywinrm frames it ([MS-WSMV] 2.2.9.1.1)."""
    sealed = client.wrap_winrm(message)
    data = bytearray(sealed.data)
    if flip_last_byte:
        data[-1] ^= 0xFF
    return (
        b'--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n'
        b'\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n--Encrypted Boundary\r\n'
        b'\tContent-Type: application/octet-stream\r\n'
        % len(message)
        + struct.pack('<I', len(sealed.header))
        + sealed.header
        + bytes(data)
        + b'--Encrypted Boundary--\r\n'
    )


def test_encrypted_framing_round_trip_and_tampering():
    NTLM_USERS.prepare()
    client, server = _ntlm_pair()
    message = '<s:Envelope>caf\u00e9</s:Envelope>'.encode('utf-8')
    assert decrypt_message(server, _frame(client, message)) == (message, 'UTF-8')

    # The server's answer, read back by the client the way pywinrm reads it.
    reply = encrypt_message(server, b'<reply/>', 'UTF-8')
    assert reply.startswith(b'--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n')
    assert b'\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=8\r\n' in reply
    assert reply.endswith(b'--Encrypted Boundary--\r\n')
    blob = reply.split(b'\tContent-Type: application/octet-stream\r\n', 1)[1][: -len(b'--Encrypted Boundary--\r\n')]
    signature_length = struct.unpack('<I', blob[:4])[0]
    assert client.unwrap_winrm(blob[4 : 4 + signature_length], blob[4 + signature_length :]) == b'<reply/>'

    # A flipped byte fails the signature check; a body that is not framed is a ValueError.
    with pytest.raises(spnego.exceptions.SpnegoError):
        decrypt_message(server, _frame(client, message, flip_last_byte=True))
    with pytest.raises(ValueError):
        decrypt_message(server, b'<s:Envelope/>')


# ---- Basic credentials in the host's ANSI code page -------------------------------------------------

ACCENTED_PASSWORD = 'Crème-brûlée-5€'  # in Windows-1252: è E8, û FB, é E9, € 80 (€ is not in latin-1)


def _basic_status(wsman, fleet, password_bytes):
    """The HTTP status of an Enumerate whose Basic header carries exactly these password bytes (401: refused)."""
    token = base64.b64encode(fleet.username.encode('ascii') + b':' + password_bytes).decode('ascii')
    protocol = wsman.protocol_for(fleet)
    envelope = wsman.enumerate_message(protocol, 'SELECT Name FROM Win32_Service').encode('utf-8')
    headers = {'Authorization': 'Basic ' + token, 'Content-Type': 'application/soap+xml;charset=UTF-8'}
    response = wsman.plain_session().post(fleet.hosts[0].endpoint, data=envelope, timeout=10, headers=headers)
    return response.status_code


def test_basic_credentials_are_decoded_in_windows_1252_by_default(sim_fleet, wsman):
    fleet = sim_fleet(auth='basic', scheme='http', password=ACCENTED_PASSWORD)
    assert fleet.code_page == 'cp1252' and fleet.hosts[0].listener.code_page == 'cp1252'
    assert _basic_status(wsman, fleet, ACCENTED_PASSWORD.encode('cp1252')) == 200
    # As on Windows, a UTF-8 client's "è" arrives as "Ã¨" and the password does not match.
    assert _basic_status(wsman, fleet, ACCENTED_PASSWORD.encode('utf-8')) == 401


def test_the_code_page_is_a_fleet_option(sim_fleet, wsman):
    fleet = sim_fleet(auth='basic', scheme='http', password='пароль-7', code_page='cp1251')
    assert fleet.hosts[0].listener.code_page == 'cp1251'
    assert _basic_status(wsman, fleet, 'пароль-7'.encode('cp1251')) == 200
    assert _basic_status(wsman, fleet, 'пароль-7'.encode('utf-8')) == 401


@pytest.mark.parametrize('code_page', ['no-such-code-page', None, 1252])
def test_an_unknown_code_page_is_refused(code_page):
    with pytest.raises(ValueError, match='code_page must name a text encoding'):
        WsmanListener(object(), users={'xpgo-admin': 'x'}, code_page=code_page)


def test_an_accented_password_works_with_transport_basic_end_to_end(sim_fleet, run_playbook, tmp_path):
    """The collection sends Basic credentials in Windows-1252 (_transport.basic_credentials), as Windows decodes them."""
    fleet = sim_fleet(auth='basic', password=ACCENTED_PASSWORD)
    running = fleet.hosts[0]
    inventory = tmp_path / 'inventory.yml'
    fleet.write_inventory(str(inventory))
    tasks = []
    for way in WAYS_IN:
        tasks += tasks_by_way([{'name': 'read ' + way, 'xprotect.go.service_info': {}}], way)
    playbook = tmp_path / 'playbook.yml'
    playbook.write_text(
        yaml.safe_dump([{'name': 'accented', 'hosts': 'xprotect', 'gather_facts': False, 'tasks': tasks}]), encoding='utf-8'
    )
    run = run_playbook(playbook, inventory)
    for way in WAYS_IN:
        result = run.task('read ' + way, running.name)
        assert result.status == 'ok', result
        assert result.result['services']['recording_server']['state'] == 'started'
    assert ACCENTED_PASSWORD not in run.stdout + run.stderr
