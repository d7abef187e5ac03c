# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A hostile "WinRM listener" on 127.0.0.1: every answer goes wrong its own way.

Each HostileServer answers every request with one behaviour (BEHAVIOURS): trickle a reply one
byte a second, stream 200 MB, redirect, send a DTD in a HTTP 500 fault, echo the Authorization
header back in a fault, speak plain HTTP where TLS was expected, or TLS where plain HTTP was.
Every loop is bounded (bytes, seconds, a stop event) so a server stops by itself even if a
test forgets it. Loopback only. Used by test_hostile_wire.py.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = '127.0.0.1'
TRICKLE_BYTES = 120  # at one byte a second: a reply that would take two minutes
HUGE_BYTES = 200 * 1024 * 1024  # 200 MB
_CHUNK = 64 * 1024
_LIFETIME = 180  # seconds a server lives at most, whatever the test does

FAULT = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
    '<s:Header/><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value>'
    '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail>'
    '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859046" Machine="hostile">'
    '<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>'
)
# The billion laughs: a parser that expands it needs gigabytes.
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    + ''.join('<!ENTITY %s "%s">' % (chr(ord('c') + i), ('&%s;' % chr(ord('b') + i)) * 10) for i in range(7))
    + ']>'
    + FAULT % ('&j;', '&j;')
)
REDIRECT_TO = 'https://elsewhere.example.test:5986/wsman'


def _headers(status, reason, fields):
    lines = ['HTTP/1.1 %d %s' % (status, reason)] + ['%s: %s' % item for item in fields] + ['', '']
    return '\r\n'.join(lines).encode('latin-1')


def _read_request(conn):
    """The request's head (as text) and body; ('', b'') when the client sent nothing usable."""
    data = b''
    while b'\r\n\r\n' not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return '', b''
        data += chunk
    head, _sep, body = data.partition(b'\r\n\r\n')
    head = head.decode('latin-1')
    length = 0
    for line in head.split('\r\n')[1:]:
        name, _colon, value = line.partition(':')
        if name.strip().lower() == 'content-length':
            length = min(int(value.strip() or 0), 16 * 1024 * 1024)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def _header(head, wanted):
    for line in head.split('\r\n')[1:]:
        name, _colon, value = line.partition(':')
        if name.strip().lower() == wanted.lower():
            return value.strip()
    return None


class HostileServer:
    """One listener, one behaviour. ``requests`` records each request's head (the first line and headers)."""

    def __init__(self, behaviour, tls=False, lifetime=_LIFETIME):
        self.behaviour = behaviour
        self.tls = tls
        self.requests = []
        self.sent_bytes = 0  # everything sent, headers included
        self.trickled = 0  # body bytes the trickle sent
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._sock = socket.create_server((LOOPBACK, 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._context = _server_context() if tls else None
        self._thread = threading.Thread(target=self._serve, name='hostile-%s' % behaviour, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _running(self):
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _serve(self):
        while self._running():
            try:
                conn, _address = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        conn.settimeout(10)
        try:
            if self._context is not None:
                conn = self._context.wrap_socket(conn, server_side=True)
            getattr(self, '_' + self.behaviour)(conn)
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client went away, as it should
        finally:
            conn.close()

    def _send(self, conn, data):
        conn.sendall(data)
        self.sent_bytes += len(data)

    def _answer(self, conn, status, reason, body, fields=()):
        fields = [('Content-Type', 'application/soap+xml;charset=UTF-8'), ('Content-Length', str(len(body)))] + list(fields)
        self._send(conn, _headers(status, reason, fields) + body)

    # -- behaviours: each reads the request, then answers its way ----------------------------

    def _trickle(self, conn):
        """A 200 reply whose body comes one byte a second: TRICKLE_BYTES seconds in all."""
        head, _body = _read_request(conn)
        self.requests.append(head)
        self._send(
            conn, _headers(200, 'OK', [('Content-Type', 'application/soap+xml;charset=UTF-8'), ('Content-Length', str(TRICKLE_BYTES))])
        )
        for _index in range(TRICKLE_BYTES):
            if not self._running():
                return
            self._send(conn, b' ')
            self.trickled += 1
            self._stop.wait(1)

    def _huge(self, conn):
        """A 200 reply of HUGE_BYTES, chunked (no Content-Length to refuse it by), as fast as the client reads."""
        head, _body = _read_request(conn)
        self.requests.append(head)
        self._send(conn, _headers(200, 'OK', [('Content-Type', 'application/soap+xml;charset=UTF-8'), ('Transfer-Encoding', 'chunked')]))
        piece = b'<x>' + b'a' * (_CHUNK - 7) + b'</x>'
        frame = b'%x\r\n' % len(piece) + piece + b'\r\n'
        for _index in range(HUGE_BYTES // len(piece)):
            if not self._running():
                return
            self._send(conn, frame)
        self._send(conn, b'0\r\n\r\n')

    def _redirect(self, conn):
        head, _body = _read_request(conn)
        self.requests.append(head)
        self._answer(conn, 302, 'Found', b'', [('Location', REDIRECT_TO)])

    def _dtd_500(self, conn):
        head, _body = _read_request(conn)
        self.requests.append(head)
        self._answer(conn, 500, 'Internal Server Error', LAUGHS.encode('utf-8'))

    def _echo_auth(self, conn):
        """A 500 fault quoting the request's Authorization header back, as a careless proxy might."""
        head, _body = _read_request(conn)
        self.requests.append(head)
        echoed = 'request rejected: Authorization: %s (header %s)' % (_header(head, 'Authorization'), _header(head, 'Authorization'))
        self._answer(conn, 500, 'Internal Server Error', (FAULT % (echoed, echoed)).encode('utf-8'))

    def _plain_http(self, conn):
        """Plain HTTP whatever comes in (here: a TLS ClientHello), like a http listener on the https port."""
        data = conn.recv(4096)
        self.requests.append(data[:16].hex())
        self._answer(conn, 400, 'Bad Request', b'<h1>Bad Request (Invalid Verb)</h1>', [('Connection', 'close')])

    def _tls_only(self, conn):
        """Nothing: with tls=True the handshake already failed on the client's plain HTTP."""
        head, _body = _read_request(conn)
        self.requests.append(head)


BEHAVIOURS = ('trickle', 'huge', 'redirect', 'dtd_500', 'echo_auth', 'plain_http', 'tls_only')


def _server_context():
    """A TLS server context with a throwaway self-signed EC certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'hostile')])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = Path(directory, 'cert.pem'), Path(directory, 'key.pem')
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        context.load_cert_chain(str(cert_path), str(key_path))
    return context
