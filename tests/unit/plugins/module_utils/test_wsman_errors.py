# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every failure becomes one XProtectError: kind, one-line message with host and fix, never a password."""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import xml.etree.ElementTree as ET
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

import pytest
import requests.exceptions
import urllib3.exceptions
from winrm import exceptions as winrm_errors
from winrm.protocol import Protocol

from ansible_collections.xprotect.go.plugins.module_utils import _errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient
from ansible_collections.xprotect.go.plugins.module_utils._wsman_errors import to_xprotect_error

PASSWORD = 'Pa$$w0rd/With:Specials&<ok>'
HOST = 'xp-go-01.example.test'
ENDPOINT = 'https://xp-go-01.example.test:5986/wsman'
SERVICE = 'Milestone XProtect Recording Server'

# Hand-made in the shape of the real faults beside it (no real AccessDenied capture exists).
ACCESS_DENIED_FAULT = (
    '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
    '<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action></s:Header><s:Body><s:Fault>'
    '<s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code>'
    '<s:Reason><s:Text xml:lang="en-US">Access is denied. </s:Text></s:Reason><s:Detail>'
    '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2147942405" Machine="xp-go-01">'
    '<f:Message>Access is denied. </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>'
)


# pytest passes fixtures as arguments named like the fixture.
# pylint: disable=redefined-outer-name
@pytest.fixture
def secret_settings(make_settings):
    """The shared settings factory, with a password full of characters that quoting would change."""
    return lambda **changes: make_settings(**dict({'password': PASSWORD}, **changes))


def assert_clean(error, kind):
    text = str(error)
    assert error.kind == kind
    assert '\n' not in text
    assert text.startswith(HOST + ': ')
    for spelling in (PASSWORD, quote(PASSWORD, safe=''), repr(PASSWORD)[1:-1]):
        assert spelling not in text and spelling not in repr(error.args)
    return text


def client_raising(secret_settings, fake_protocol, exc, **settings):
    return WsmanClient(secret_settings(**settings), protocol=fake_protocol([exc]))


def windows_protocol(monkeypatch, status, body):
    """A real pywinrm Protocol whose HTTP layer answers (status, body): pywinrm's own fault parsing runs."""
    protocol = Protocol(ENDPOINT, transport='ntlm', username='CORP\\xpgo-admin', password=PASSWORD)

    def answer(message):
        raise winrm_errors.WinRMTransportError('http', status, body)

    monkeypatch.setattr(protocol.transport, 'send_message', answer)
    return protocol


@pytest.mark.parametrize(
    'name, call, kind, words',
    [
        (
            'fault-cannotprocessfilter-wql-unknown-class.xml',
            lambda c: c.enumerate('SELECT * FROM Win32_Processa'),
            'fault',
            ['WQL query "SELECT * FROM Win32_Processa" failed', 'WMI rejected the query', 'The specified class does not exist'],
        ),
        (
            'fault-destinationunreachable-wmi-get-instance-not-found.xml',
            lambda c: c.get('Win32_Service', {'Name': SERVICE}),
            'not_found',
            ["service '%s'" % SERVICE, 'no such WMI instance or class'],
        ),
        ('fault-timedout-receive.xml', lambda c: c.enumerate('SELECT Name FROM Win32_Service'), 'timeout', ['operation_timeout (20 s)']),
        (
            'fault-invalidselectors-shell-get.xml',
            lambda c: c.get('Win32_Service', {'Name': SERVICE}),
            'fault',
            ['InvalidSelectors (code 2150858843)', 'invalid selectors'],
        ),
        (
            'fault-quotalimit-msft_wmierror.xml',
            lambda c: c.invoke('Win32_Service', 'StartService', {'Name': SERVICE}),
            'fault',
            ['Win32_Service.StartService failed', 'QuotaLimit', '2150859173'],
        ),
        (
            'fault-internalerror-max-concurrent-operations.xml',
            lambda c: c.enumerate('SELECT Name FROM Win32_Service'),
            'fault',
            ['InternalError (code 2150859174)', 'maximum number of 15 concurrent operations'],
        ),
        (
            'fault-internalerror-win32-file-not-found.xml',
            lambda c: c.enumerate('SELECT Name FROM Win32_Service'),
            'fault',
            ['InternalError (code 2147942402)', 'The system cannot find the file specified.'],
        ),
    ],
)
def test_capture_faults_through_pywinrm(monkeypatch, capture, secret_settings, name, call, kind, words):
    client = WsmanClient(secret_settings(), protocol=windows_protocol(monkeypatch, 500, capture(name).decode('utf-8')))
    with pytest.raises(XProtectError) as caught:
        call(client)
    text = assert_clean(caught.value, kind)
    for word in words:
        assert word in text
    assert client.round_trips == 1


def test_access_denied_names_the_rights(monkeypatch, secret_settings):
    client = WsmanClient(secret_settings(), protocol=windows_protocol(monkeypatch, 500, ACCESS_DENIED_FAULT))
    with pytest.raises(XProtectError) as caught:
        client.invoke('Win32_Service', 'StopService', selectors={'Name': SERVICE})
    text = assert_clean(caught.value, 'access_denied')
    for word in ('Remote Management Users', "'Enable Account'", "'Remote Enable'", 'root/cimv2', "'CORP\\xpgo-admin'", SERVICE):
        assert word in text
    assert not caught.value.unreachable


def test_access_denied_names_the_namespace_asked(monkeypatch, secret_settings):
    """The registry provider behind start_mode delayed lives in root/default, which needs the same WMI grants."""
    client = WsmanClient(secret_settings(), protocol=windows_protocol(monkeypatch, 500, ACCESS_DENIED_FAULT))
    with pytest.raises(XProtectError) as caught:
        client.invoke('StdRegProv', 'SetDWORDValue', params={'hDefKey': 2147483650}, namespace='root/default')
    text = assert_clean(caught.value, 'access_denied')
    assert "'Remote Enable' on root/default" in text and 'root/cimv2' not in text


@pytest.mark.parametrize(
    'status, body, words',
    [
        (500, '<html>Internal error</html', ['HTTP 500']),
        (404, '', ['HTTP 404', 'ansible_winrm_path']),
        (503, 'Service Unavailable', ['HTTP 503']),
    ],
)
def test_http_errors_without_soap(monkeypatch, secret_settings, status, body, words):
    client = WsmanClient(secret_settings(), protocol=windows_protocol(monkeypatch, status, body))
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'protocol')
    for word in words:
        assert word in text


def connection_error(os_error, cls=requests.exceptions.ConnectionError):
    """A requests error chained the way requests/urllib3 chain a socket failure."""
    new_connection = urllib3.exceptions.NewConnectionError(None, 'Failed to establish a new connection: %s' % os_error)
    new_connection.__cause__ = os_error
    retries = urllib3.exceptions.MaxRetryError(None, '/wsman', new_connection)
    return cls(retries)


@pytest.mark.parametrize(
    'exc',
    [
        requests.exceptions.ConnectionError(ConnectionResetError(104, 'Connection reset by peer')),
        requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"),
    ],
)
def test_connection_dropped_after_it_was_made(secret_settings, fake_protocol, exc):
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    text = assert_clean(caught.value, 'unreachable')
    assert 'closed the connection before answering' in text and 'run the task again' in text
    assert 'RemoteDisconnected' not in text and 'winrm quickconfig' not in text


@pytest.mark.parametrize(
    'exc, reason',
    [
        (connection_error(ConnectionRefusedError(111, 'Connection refused')), 'Connection refused'),
        (connection_error(socket.gaierror(-2, 'Name or service not known')), 'Name or service not known'),
        (connection_error(OSError(113, 'No route to host')), 'No route to host'),
        (
            requests.exceptions.ConnectionError(
                "HTTPSConnectionPool(host='x', port=5986): Max retries exceeded with url: /wsman "
                "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: "
                "Failed to establish a new connection: [Errno 111] Connection refused'))"
            ),
            'Connection refused',
        ),
    ],
)
def test_unreachable(secret_settings, fake_protocol, exc, reason):
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    text = assert_clean(caught.value, 'unreachable')
    assert 'cannot connect to the WinRM listener at %s (%s)' % (ENDPOINT, reason) in text
    assert 'host (ansible_host) and port (ansible_port)' in text and 'winrm quickconfig' in text
    assert caught.value.unreachable


def test_tls(secret_settings, fake_protocol):
    verify = ssl.SSLCertVerificationError(
        1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)'
    )
    exc = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, '/wsman', urllib3.exceptions.SSLError(verify)))
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'tls')
    for word in (
        'CERTIFICATE_VERIFY_FAILED',
        'self-signed certificate',
        'ca_trust_path',
        'ansible_winrm_ca_trust_path',
        'validate_certs',
        'ansible_winrm_server_cert_validation',
    ):
        assert word in text
    assert '_ssl.c' not in text


@pytest.mark.parametrize(
    'exc',
    [
        requests.exceptions.ReadTimeout('Read timed out. (read timeout=30)'),
        connection_error(TimeoutError('timed out'), cls=requests.exceptions.ConnectTimeout),
    ],
)
def test_timeouts(secret_settings, fake_protocol, exc):
    client = client_raising(secret_settings, fake_protocol, exc, connection_timeout=30)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'timeout')
    assert 'connection_timeout (30 s)' in text
    assert caught.value.unreachable


def test_operation_timeout_error_from_pywinrm(secret_settings, fake_protocol):
    client = client_raising(
        secret_settings, fake_protocol, winrm_errors.WinRMOperationTimeoutError(), operation_timeout=25, connection_timeout=35
    )
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    assert 'operation_timeout (25 s)' in assert_clean(caught.value, 'timeout')


@pytest.mark.parametrize('transport', ['ntlm', 'basic', 'kerberos', 'credssp'])
def test_rejected_credentials(secret_settings, fake_protocol, transport):
    exc = winrm_errors.InvalidCredentialsError('the specified credentials were rejected by the server')
    client = client_raising(secret_settings, fake_protocol, exc, transport=transport)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    text = assert_clean(caught.value, 'auth')
    assert "'CORP\\xpgo-admin'" in text and 'transport %s' % transport in text
    assert 'username (ansible_user) and password (ansible_password)' in text and 'rejected by the server' in text


def test_certificate_files_missing_is_an_auth_error(secret_settings, tmp_path):
    # Real pywinrm: its Protocol constructor refuses missing certificate files.
    settings = secret_settings(transport='certificate', client_cert=str(tmp_path / 'missing.pem'), client_key=str(tmp_path / 'missing.key'))
    with pytest.raises(XProtectError) as caught:
        WsmanClient(settings).get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'auth')
    assert 'cert_pem file not found' in text and 'client_cert (ansible_winrm_cert_pem) and client_key (ansible_winrm_cert_key_pem)' in text


def test_basic_auth_disabled(secret_settings, fake_protocol):
    client = client_raising(secret_settings, fake_protocol, winrm_errors.BasicAuthDisabledError(), transport='basic')
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    assert 'Basic authentication is disabled' in assert_clean(caught.value, 'auth')


def test_missing_transport_extra(secret_settings, fake_protocol):
    exc = winrm_errors.WinRMError('requested auth method is kerberos, but pykerberos is not installed')
    client = client_raising(secret_settings, fake_protocol, exc, transport='kerberos')
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    assert 'pywinrm[kerberos]' in assert_clean(caught.value, 'invalid')


@pytest.mark.parametrize(
    'exc',
    [
        ET.ParseError('not well-formed (invalid token): line 1, column 0'),
        requests.exceptions.ChunkedEncodingError('Connection broken: IncompleteRead'),
        UnicodeDecodeError('utf-8', b'\xff', 0, 1, 'invalid start byte'),
    ],
)
def test_garbled_replies_are_protocol_errors(secret_settings, fake_protocol, exc):
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    assert_clean(caught.value, 'protocol')


@pytest.mark.parametrize(
    'exc',
    [
        requests.exceptions.ConnectionError('proxy said: %s refused' % PASSWORD),
        requests.exceptions.SSLError('bad handshake for password=%s' % quote(PASSWORD, safe='')),
        winrm_errors.InvalidCredentialsError('auth method ntlm rejected %r' % PASSWORD),
        winrm_errors.WSManFaultError(500, 'Bad HTTP response', '', 'Logon failure for %s' % PASSWORD, 's:Sender', 'w:InternalError', 1),
        winrm_errors.WinRMError('cannot use %s' % PASSWORD),
        RuntimeError('spnego: %s' % PASSWORD),
    ],
)
def test_password_is_scrubbed(secret_settings, fake_protocol, exc):
    assert PASSWORD in str(exc) or quote(PASSWORD, safe='') in str(exc) or repr(PASSWORD)[1:-1] in str(exc)
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, caught.value.kind)
    assert '********' in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_to_xprotect_error_keeps_our_own_errors(secret_settings):
    original = XProtectError('invalid service name', kind='invalid')
    error = to_xprotect_error(original, secret_settings())
    assert error is original and error.host == HOST
    assert str(error) == HOST + ': invalid service name'


def test_error_string_is_one_line_with_host_and_service():
    error = XProtectError('start failed:\n  timed out\r\n waiting', host='h1', service='Milestone Image Server', kind='service')
    assert str(error) == "h1: service 'Milestone Image Server': start failed: timed out waiting"
    assert not error.unreachable
    assert XProtectError('x').kind == 'error' and str(XProtectError('x')) == 'x'
    assert set(_errors.KINDS) >= {
        'unreachable',
        'auth',
        'tls',
        'timeout',
        'access_denied',
        'not_found',
        'fault',
        'protocol',
        'invalid',
        'service',
    }


def test_scrub_leaves_text_alone_without_a_password():
    assert _errors.scrub('nothing secret', None) == 'nothing secret'
    assert _errors.scrub('a hunter2 b', 'hunter2') == 'a ******** b'


@pytest.mark.parametrize('padding', [180, 190, 195, 200])
def test_password_at_the_cut_of_a_long_reason_is_scrubbed(secret_settings, fake_protocol, padding):
    exc = requests.exceptions.ConnectionError('x' * padding + PASSWORD + ' and more text after it')
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    text = assert_clean(caught.value, 'unreachable')
    assert PASSWORD[:4] not in text


# -- access denied, however Windows words it --------------------------------------------------


def fault_with_code(wsman_code=None, wmi_code=None, subcode='w:InternalError'):
    """A fault in the shape of Windows' own, with the code in f:WSManFault/@Code or in MSFT_WmiError/error_Code."""
    wsman = (
        (
            '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%s" Machine="xp-go-01">'
            '<f:Message>Provider refused the request. </f:Message></f:WSManFault>' % wsman_code
        )
        if wsman_code is not None
        else ''
    )
    wmi = (
        (
            '<p:MSFT_WmiError xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError">'
            '<p:Message>Provider refused the request. </p:Message><p:error_Code>%s</p:error_Code></p:MSFT_WmiError>' % wmi_code
        )
        if wmi_code is not None
        else ''
    )
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
        '<s:Header/><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>'
        '<s:Reason><s:Text xml:lang="en-US">Provider refused the request. </s:Text></s:Reason><s:Detail>%s%s</s:Detail></s:Fault>'
        '</s:Body></s:Envelope>' % (subcode, wsman, wmi)
    )


ACCESS_DENIED_CODES = [5, 2147942405, 2147749891]  # Win32 error 5, its HRESULT 0x80070005, WBEM_E_ACCESS_DENIED 0x80041003


@pytest.mark.parametrize('where', ['wsman', 'wmi'])
@pytest.mark.parametrize('code', ACCESS_DENIED_CODES)
@pytest.mark.parametrize('path', ['reply', 'pywinrm'])
def test_access_denied_whatever_its_code(monkeypatch, fake_protocol, secret_settings, code, where, path):
    """In a 200 reply (our parser) and in a 500 through pywinrm's WSManFaultError: the same kind and advice."""
    body = fault_with_code(wsman_code=code) if where == 'wsman' else fault_with_code(wsman_code=2150859046, wmi_code=code)
    protocol = fake_protocol([body]) if path == 'reply' else windows_protocol(monkeypatch, 500, body)
    client = WsmanClient(secret_settings(), protocol=protocol)
    with pytest.raises(XProtectError) as caught:
        client.invoke('Win32_Service', 'StopService', selectors={'Name': SERVICE})
    text = assert_clean(caught.value, 'access_denied')
    assert 'access denied (Provider refused the request.)' in text and "'Remote Enable' on root/cimv2" in text


def test_other_codes_are_not_access_denied(fake_protocol, secret_settings):
    client = WsmanClient(secret_settings(), protocol=fake_protocol([fault_with_code(wsman_code=2150859046, wmi_code=2147749890)]))
    with pytest.raises(XProtectError) as caught:
        client.enumerate('SELECT Name FROM Win32_Service')
    assert caught.value.kind == 'fault'


# -- no form of a secret, and server text cut -------------------------------------------------

BASIC_VALUE = 'Basic ' + base64.b64encode(('CORP\\xpgo-admin:' + PASSWORD).encode('utf-8')).decode()
OTHER_BASIC = 'Basic ' + base64.b64encode(b'someone:else-entirely-1').decode()
NEGOTIATE = 'Negotiate TlRMTVNTUAADAAAAGAAYAEgAAAAYABgAYAAAAAAAAAB4AAAAAAAAAHgAAAAAAAAAeAAAAAAAAAA='


@pytest.mark.parametrize(
    'exc',
    [
        winrm_errors.WSManFaultError(
            500, 'Bad HTTP response', '', 'echo: Authorization: %s' % BASIC_VALUE, 's:Sender', 'w:InternalError', 1
        ),
        winrm_errors.WSManFaultError(500, 'Bad HTTP response', '', 'proxy saw %s and %s' % (OTHER_BASIC, NEGOTIATE), 's:Sender', None, 1),
        winrm_errors.InvalidCredentialsError('server said: %s' % NEGOTIATE),
        winrm_errors.InvalidCredentialsError("request headers {'Authorization': '%s'}" % OTHER_BASIC),
        winrm_errors.WinRMError('auth failed with header %s' % BASIC_VALUE),
        requests.exceptions.ConnectionError("('Connection aborted.', 'sent Authorization: %s')" % NEGOTIATE),
        RuntimeError('spnego: token %s' % NEGOTIATE),
    ],
)
def test_authorization_values_are_masked_even_when_not_the_password(secret_settings, fake_protocol, exc):
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, caught.value.kind)
    for value in (BASIC_VALUE, OTHER_BASIC, NEGOTIATE):
        assert value.split(' ')[1] not in text
    assert '********' in text or 'closed the connection before answering' in text  # that message quotes no server text


def test_fault_text_is_scrubbed_before_it_is_cut(fake_protocol, secret_settings):
    """A password across the 300th character is masked whole, not left half visible by the cut."""
    for padding in range(270, 300, 3):
        reason = 'x' * padding + PASSWORD + ' and the rest of a long fault text ' * 20
        client = WsmanClient(
            secret_settings(),
            protocol=fake_protocol(
                [
                    fault_with_code(wsman_code=2150859046).replace(
                        'Provider refused the request. </f:Message>', xml_escape(reason) + '</f:Message>'
                    )
                ]
            ),
        )
        with pytest.raises(XProtectError) as caught:
            client.enumerate('SELECT Name FROM Win32_Service')
        text = assert_clean(caught.value, 'fault')
        assert PASSWORD[:4] not in text
        server_part = text.split('(code 2150859046): ', 1)[1].split('; see the Microsoft-Windows-WinRM', 1)[0]
        assert len(server_part) <= 300 and server_part.endswith('...')


def test_long_texts_from_the_client_libraries_are_cut(secret_settings, fake_protocol):
    for exc in (winrm_errors.InvalidCredentialsError('rejected ' + 'z' * 5000), winrm_errors.WinRMError('odd ' + 'z' * 5000)):
        client = client_raising(secret_settings, fake_protocol, exc)
        with pytest.raises(XProtectError) as caught:
            client.get('Win32_Service', {'Name': 'WinRM'})
        assert 'z' * 301 not in str(caught.value) and '...' in str(caught.value)


def test_scrub_masks_header_values_but_not_words():
    for text in ('Basic authentication is disabled', 'NTLM challenge failed', 'Negotiate auth', 'Kerberos realm'):
        assert _errors.scrub(text, None) == text
    assert _errors.scrub('"Authorization": "Basic abc"', None) == '"Authorization": "********"'
    assert _errors.scrub(BASIC_VALUE, None) == 'Basic ********'
    once = _errors.scrub('Authorization: %s (again %s)' % (BASIC_VALUE, BASIC_VALUE), PASSWORD, 'CORP\\xpgo-admin')
    assert once == 'Authorization: ******** (again Basic ********)'
    assert _errors.scrub(once, PASSWORD) == once, 'scrubbing twice changes nothing'


def test_password_spellings_include_the_windows_1252_basic_value():
    spellings = _errors.secret_spellings('Prüfung€', 'xpgo-admin')
    assert base64.b64encode('xpgo-admin:Prüfung€'.encode('cp1252')).decode() in spellings


# -- plain HTTP where TLS was asked, and the reverse ---------------------------------------


@pytest.mark.parametrize(
    'reason',
    [
        # What requests raises when the listener closes the connection after part of its handshake reply
        # (reproduced against a local TLS server that sends 5, 100 or all its bytes and then closes).
        '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (_ssl.c:1006)',
        'EOF occurred in violation of protocol (_ssl.c:2427)',
    ],
)
def test_a_connection_closed_during_the_handshake_is_a_dropped_connection_not_a_certificate(secret_settings, fake_protocol, reason):
    """A host that goes down mid-handshake is unreachable: telling the user to fix ca_trust_path would mislead."""
    exc = requests.exceptions.SSLError(
        urllib3.exceptions.MaxRetryError(None, '/wsman', urllib3.exceptions.SSLError(ssl.SSLEOFError(8, reason)))
    )
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'unreachable')
    assert 'closed the connection during the TLS handshake' in text and 'ca_trust_path' not in text


@pytest.mark.parametrize(
    'reason',
    [
        '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)',
        '[SSL: RECORD_LAYER_FAILURE] record layer failure (_ssl.c:1000)',
        '[SSL: HTTP_REQUEST] http request (_ssl.c:1000)',
    ],
)
def test_plain_http_on_an_https_endpoint(secret_settings, fake_protocol, reason):
    exc = requests.exceptions.SSLError(
        urllib3.exceptions.MaxRetryError(None, '/wsman', urllib3.exceptions.SSLError(ssl.SSLError(1, reason)))
    )
    client = client_raising(secret_settings, fake_protocol, exc)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'tls')
    assert 'the listener at %s answered in plain HTTP, not TLS' % ENDPOINT in text
    assert text.endswith('use scheme http (ansible_winrm_scheme: http) or port 5986')


def test_tls_on_an_http_endpoint(secret_settings, fake_protocol):
    exc = requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError('Connection aborted.', http.client.BadStatusLine('\x15\x03\x01\x00\x02\x02P'))
    )
    client = client_raising(secret_settings, fake_protocol, exc, scheme='http', port=5986)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'tls')
    assert 'answered in TLS (https), not plain HTTP' in text
    assert text.endswith('use scheme https (ansible_winrm_scheme: https) or port 5985')


def test_dropped_on_an_http_endpoint_mentions_https(secret_settings, fake_protocol):
    exc = requests.exceptions.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    )
    client = client_raising(secret_settings, fake_protocol, exc, scheme='http', port=5986)
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = assert_clean(caught.value, 'unreachable')
    assert 'or the listener speaks https (then use scheme https (ansible_winrm_scheme: https), or port 5985)' in text


def test_rejected_basic_credentials_with_non_ascii_characters_point_at_ntlm(secret_settings, fake_protocol):
    exc = winrm_errors.InvalidCredentialsError('the specified credentials were rejected by the server')
    client = client_raising(secret_settings, fake_protocol, exc, transport='basic', password='Prüfung-2024')
    with pytest.raises(XProtectError) as caught:
        client.get('Win32_Service', {'Name': 'WinRM'})
    text = str(caught.value)
    assert caught.value.kind == 'auth' and 'Prüfung' not in text
    assert text.endswith('carries any character') and 'transport ntlm (ansible_winrm_transport: ntlm)' in text


@pytest.mark.parametrize(
    'connection, words',
    [
        ('psrp', ['ca_trust_path (ansible_psrp_ca_cert)', 'validate_certs: false (ansible_psrp_cert_validation: ignore)']),
        ('winrm', ['ca_trust_path (ansible_winrm_ca_trust_path)', 'validate_certs: false (ansible_winrm_server_cert_validation: ignore)']),
        (None, ['set ca_trust_path to', 'set validate_certs: false']),
    ],
)
def test_hints_name_the_settings_of_the_hosts_own_connection(make_settings, fake_protocol, connection, words):
    verify = ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:1006)')
    exc = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, '/wsman', urllib3.exceptions.SSLError(verify)))
    text = str(to_xprotect_error(exc, make_settings(connection=connection)))
    for word in words:
        assert word in text
    if connection != 'winrm':
        assert 'ansible_winrm' not in text


def test_a_psrp_host_is_told_its_own_timeout_variable(make_settings):
    text = str(to_xprotect_error(requests.exceptions.ReadTimeout('Read timed out.'), make_settings(connection='psrp')))
    assert text.endswith('raise connection_timeout (ansible_psrp_read_timeout)')
