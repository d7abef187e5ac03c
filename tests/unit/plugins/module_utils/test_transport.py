# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The bounded transport: one deadline per message, bounded bodies, no redirects, safe error bodies, Basic encoding."""

from __future__ import annotations

import base64
import io
import socket
import time

import pytest
import requests
import requests.adapters
import urllib3
from winrm import protocol as winrm_protocol
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
from winrm.protocol import Protocol

from ansible_collections.xprotect.go.plugins.module_utils import _transport
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import FaultReply

ENDPOINT = 'http://xp-go-01.example.test:5985/wsman'
PASSWORD = 'Pa$$w0rd-€uro'
LIMIT = 1024
FAULT = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value>'
    '<s:Subcode><s:Value>w:InternalError</s:Value></s:Subcode></s:Code><s:Reason><s:Text>broken</s:Text></s:Reason>'
    '<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859046"/></s:Detail>'
    '</s:Fault></s:Body></s:Envelope>'
)


class CountingStream(io.BytesIO):
    """A body that counts what was read of it (also once closed)."""

    served = 0

    def read(self, size=-1):
        data = super().read(size)
        self.served += len(data)
        return data

    def read1(self, size=-1):
        data = super().read1(size)
        self.served += len(data)
        return data

    def readinto(self, buffer):
        count = super().readinto(buffer)
        self.served += count
        return count


def response(status=200, body=b'', headers=None, request=None):
    """A requests.Response over an unread in-memory body, as requests' adapter builds it."""
    headers = dict({'Content-Type': 'application/soap+xml;charset=UTF-8'}, **(headers or {}))
    raw = urllib3.HTTPResponse(body=io.BytesIO(body), headers=headers, status=status, preload_content=False)
    request = request or requests.Request('POST', ENDPOINT, data=b'<x/>').prepare()
    return requests.adapters.HTTPAdapter().build_response(request, raw)


class ScriptedSession(requests.Session):
    """A session whose send() answers from a script (a Response, an exception, or a callable making one) and records its arguments."""

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.sent = []

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        self.sent.append(kwargs)
        answer = self.answers.pop(0)
        if callable(answer):
            answer = answer()
        if isinstance(answer, BaseException):
            raise answer
        return answer


def transport_with(answers, transport='basic', password=PASSWORD, read_timeout_sec=30):
    protocol = _transport.bound(
        Protocol(
            ENDPOINT,
            transport=transport,
            username='xpgo-admin',
            password=password,
            read_timeout_sec=read_timeout_sec,
            operation_timeout_sec=read_timeout_sec - 10,
        )
    )
    protocol.transport.session = ScriptedSession(answers)
    return protocol.transport


# -- the deadline ------------------------------------------------------------------------------


def test_deadline_shuts_a_watched_socket_blocked_in_a_read():
    left, right = socket.socketpair()
    try:
        # A safety net, not a measurement: without the deadline recv raises socket.timeout here instead of hanging.
        left.settimeout(60)
        with _transport.Deadline(0.3) as deadline:
            deadline.watch(left)
            assert left.recv(1) == b''  # right never writes nor closes: only the deadline's shutdown ends this read
            assert deadline.expired
    finally:
        left.close()
        right.close()


def test_a_socket_watched_after_expiry_is_shut_at_once_and_none_after_exit():
    sockets = [socket.socketpair() for _index in range(2)]
    try:
        with _transport.Deadline(0.05) as deadline:
            time.sleep(0.2)
            deadline.watch(sockets[0][0])
            assert sockets[0][0].recv(1) == b''
        deadline.watch(sockets[1][0])  # after the block: ignored
        sockets[1][1].sendall(b'x')
        assert sockets[1][0].recv(1) == b'x'
    finally:
        for pair in sockets:
            for sock in pair:
                sock.close()


def test_deadline_remaining_counts_down_and_never_reaches_zero():
    with _transport.Deadline(0.1) as deadline:
        assert 0 < deadline.remaining() <= 0.1
        time.sleep(0.15)
        assert deadline.remaining() == 0.01


# -- bodies ----------------------------------------------------------------------------------


def test_body_is_read_and_kept_as_content():
    answer = response(body=b'<ok/>' * 10)
    _transport._read_body(answer, LIMIT, ENDPOINT)  # pylint: disable=protected-access
    assert answer.content == b'<ok/>' * 10


def test_body_without_length_is_refused_while_it_streams():
    stream = CountingStream(b'a' * (500 * LIMIT))
    answer = response(body=b'')
    answer.raw._fp = stream  # pylint: disable=protected-access
    with pytest.raises(XProtectError) as caught:
        _transport._read_body(answer, LIMIT, ENDPOINT)  # pylint: disable=protected-access
    assert caught.value.kind == 'protocol' and 'larger than' in str(caught.value)
    assert stream.served <= LIMIT + 64 * 1024, 'it read the whole body before refusing it'


def test_declared_length_over_the_limit_is_refused_unread():
    stream = CountingStream(b'a' * (2 * LIMIT))
    answer = response(body=b'', headers={'Content-Length': str(2 * LIMIT)})
    answer.raw._fp = stream  # pylint: disable=protected-access
    with pytest.raises(XProtectError):
        _transport._read_body(answer, LIMIT, ENDPOINT)  # pylint: disable=protected-access
    assert stream.served == 0


def test_compressed_body_is_refused():
    answer = response(body=b'x', headers={'Content-Encoding': 'gzip'})
    with pytest.raises(XProtectError) as caught:
        _transport._read_body(answer, LIMIT, ENDPOINT)  # pylint: disable=protected-access
    assert 'Content-Encoding gzip' in str(caught.value)


def test_a_401_with_a_length_is_left_for_the_auth_library():
    """requests_ntlm and requests_kerberos take the server certificate (CBT) from the unread 401's socket."""
    answer = response(401, body=b'', headers={'Content-Length': '0'})
    _transport._read_body(answer, LIMIT, ENDPOINT)  # pylint: disable=protected-access
    assert answer._content is False  # pylint: disable=protected-access


# -- answers the transport refuses -----------------------------------------------------------


def test_redirect_is_refused_not_followed():
    location = 'https://elsewhere.example.test/wsman?auth=' + base64.b64encode(b'xpgo-admin:' + PASSWORD.encode('cp1252')).decode()
    transport = transport_with([response(302, headers={'Location': location})])
    with pytest.raises(XProtectError) as caught:
        transport.send_message('<x/>')
    text = str(caught.value)
    assert caught.value.kind == 'protocol'
    assert 'answered HTTP 302 redirecting to https://elsewhere.example.test/wsman' in text and 'never redirects' in text
    assert text.endswith('check host, port and path')  # no inventory host: the task options
    assert base64.b64encode(b'xpgo-admin:' + PASSWORD.encode('cp1252')).decode() not in text
    assert transport.session is None, 'the session is dropped after a refused answer'


def test_session_send_never_follows_redirects_and_gets_the_read_timeout():
    transport = transport_with([response(200, body=b'<ok/>')])
    assert transport.send_message('<x/>') == b'<ok/>'
    assert transport.session.sent[0]['allow_redirects'] is False
    assert transport.session.sent[0]['timeout'] == 30


def test_401_is_invalid_credentials():
    transport = transport_with([response(401, headers={'Content-Length': '0'})])
    with pytest.raises(InvalidCredentialsError):
        transport.send_message('<x/>')


def test_500_with_a_dtd_is_refused_before_pywinrm_parses_it(monkeypatch):
    def fail(*args):
        raise AssertionError('pywinrm parsed the body')

    monkeypatch.setattr(winrm_protocol.ET, 'fromstring', fail)
    body = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + FAULT.replace('broken', '&b;')
    for encoding in ('utf-8', 'utf-16'):
        protocol = _transport.bound(Protocol(ENDPOINT, transport='basic', username='u', password='p'))
        protocol.transport.session = ScriptedSession([response(500, body=body.encode(encoding))])
        with pytest.raises(XProtectError) as caught:
            protocol.send_message('<x/>')
        assert caught.value.kind == 'protocol' and 'document type declarations are refused' in str(caught.value)


def test_500_with_a_fault_becomes_a_fault_reply(monkeypatch):
    monkeypatch.setattr(winrm_protocol.ET, 'fromstring', lambda *args: pytest.fail('pywinrm parsed the body'))
    transport = transport_with([response(500, body=FAULT.encode('utf-8'))])
    with pytest.raises(FaultReply) as caught:
        transport.send_message('<x/>')
    assert caught.value.fault.wsman_code == 2150859046 and caught.value.fault.reason == 'broken'
    assert transport.session is not None, 'a complete answer keeps the session'


@pytest.mark.parametrize('body', [b'<html>Service Unavailable</html', b'', 'Fehler \xe4'.encode('cp1252')])
def test_500_without_a_fault_is_a_transport_error(body):
    transport = transport_with([response(503, body=body)])
    with pytest.raises(WinRMTransportError) as caught:
        transport.send_message('<x/>')
    assert caught.value.code == 503


def assert_timeout(transport, seconds):
    with pytest.raises(XProtectError) as caught:
        transport.send_message('<x/>')
    text = str(caught.value)
    assert caught.value.kind == 'timeout' and caught.value.unreachable
    assert 'within connection_timeout (%s s): no complete answer within %s s' % (seconds, seconds) in text
    assert text.endswith('raise connection_timeout')
    assert transport.session is None and transport.encryption is None, 'the next message starts a new session'


def test_a_read_timeout_is_no_complete_answer():
    assert_timeout(transport_with([requests.exceptions.ReadTimeout('Read timed out. (read timeout=30)')], read_timeout_sec=17), 17)


def test_whatever_breaks_after_the_deadline_is_no_complete_answer():
    """A shut socket surfaces as a dropped connection, a broken chunk, an SSL error: past the deadline, all are timeouts."""

    def late():
        time.sleep(0.3)
        return requests.exceptions.ChunkedEncodingError('Connection broken: IncompleteRead')

    transport = transport_with([late], read_timeout_sec=12)
    transport.read_timeout_sec = 0.1
    assert_timeout(transport, 0.1)


def test_a_connection_error_before_the_deadline_is_left_to_the_error_mapping():
    transport = transport_with([requests.exceptions.ConnectionError('Connection refused')])
    with pytest.raises(requests.exceptions.ConnectionError):
        transport.send_message('<x/>')


# -- Basic credentials -----------------------------------------------------------------------


def test_basic_credentials_use_windows_1252():
    assert _transport.basic_credentials('xpgo-admin', 'Prüfung€') == b'xpgo-admin:Pr\xfcfung\x80'
    assert _transport.basic_credentials(None, None) == b':'


@pytest.mark.parametrize(
    'username, password, what',
    [('xpgo-admin', 'пароль', 'password'), ('админ', 'secret', 'user name'), ('xpgo-admin', 'パスワード', 'password')],
)
def test_basic_credentials_windows_cannot_decode_are_refused_before_sending(username, password, what):
    with pytest.raises(XProtectError) as caught:
        _transport.bound(Protocol(ENDPOINT, transport='basic', username=username, password=password))
    text = str(caught.value)
    assert caught.value.kind == 'invalid' and 'cannot carry this %s' % what in text and 'nothing was sent' in text
    assert text.endswith('Use transport ntlm, which carries any character')
    assert password not in text and (username == 'xpgo-admin' or username not in text)


def test_basic_header_carries_the_windows_1252_bytes():
    transport = transport_with([response(200, body=b'<ok/>')])
    transport.send_message('<x/>')
    prepared = requests.Request('POST', ENDPOINT).prepare()
    transport.session.auth(prepared)
    assert prepared.headers['Authorization'] == 'Basic ' + base64.b64encode(b'xpgo-admin:' + PASSWORD.encode('cp1252')).decode()


def test_ntlm_takes_any_character():
    protocol = _transport.bound(Protocol(ENDPOINT, transport='ntlm', username='админ', password='пароль'))
    assert isinstance(protocol.transport, _transport.BoundedTransport)


def test_bound_keeps_pywinrm_settings_and_mounts_the_bounded_adapter():
    protocol = _transport.bound(
        Protocol(
            'https://h:5986/wsman',
            transport='ntlm',
            username='u',
            password='p',
            read_timeout_sec=45,
            operation_timeout_sec=30,
            server_cert_validation='ignore',
        ),
        max_reply_bytes=LIMIT,
    )
    transport = protocol.transport
    assert (transport.read_timeout_sec, transport.server_cert_validation, transport.max_reply_bytes) == (45, 'ignore', LIMIT)
    session = transport.build_session()
    adapter = session.get_adapter('https://h:5986/wsman')
    assert isinstance(adapter, _transport._BoundedAdapter) and adapter.limit == LIMIT  # pylint: disable=protected-access
    assert session.headers['Accept-Encoding'] == 'identity'
    assert adapter.poolmanager.pool_classes_by_scheme['https'].ConnectionCls.__name__ == '_WatchedHTTPSConnection'
