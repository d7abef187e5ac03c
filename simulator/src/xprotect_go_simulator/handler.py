# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP side of a simulated WinRM listener: one handler per connection, as HTTP.sys answers.

HTTP/1.1 keep-alive on /wsman, HTTPAPI headers and status lines without a reason phrase.
"""

from __future__ import annotations

import http.server
import io
import logging
import socket
import struct
import typing as t
from urllib.parse import urlsplit

from spnego.exceptions import SpnegoError

from .acceptor import reset_socket
from .auth import CHALLENGES, ENCRYPTED_CONTENT_TYPE, ENCRYPTED_PROTOCOL, AuthenticationMixin, decrypt_message, encrypt_message
from .costs import HANDSHAKE

if t.TYPE_CHECKING:
    from .listener import WsmanListener

log = logging.getLogger(__name__)

WSMAN_PATH = '/wsman'
SERVER_HEADER = 'Microsoft-HTTPAPI/2.0'
SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8'
IDLE_TIMEOUT = 120.0  # HTTP.sys drops idle keep-alive connections after about two minutes
# Once a request has begun, each read of its headers and body must make progress within this many
# seconds, or the connection is dropped without an answer (HTTP.sys' HeaderWait/EntityBody timeouts,
# shorter here: a stalled client must not hold a thread for minutes). Per listener: body_timeout.
REQUEST_TIMEOUT = 10.0
MAX_BODY = 16 * 1024 * 1024


class WsmanRequestHandler(AuthenticationMixin, http.server.BaseHTTPRequestHandler):
    """Serves the HTTP requests of one connection. NTLM authenticates the connection, not a request."""

    protocol_version = 'HTTP/1.1'
    server_version = SERVER_HEADER
    sys_version = ''
    timeout = IDLE_TIMEOUT

    def __init__(self, request: socket.socket, client_address: t.Any, listener: WsmanListener) -> None:
        self.listener = listener
        self.ntlm_context = None
        self.ntlm_user = None
        super().__init__(request, client_address, t.cast(t.Any, listener))

    def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
        log.debug('%s %s', self.listener.endpoint, format % args)

    def handle_one_request(self) -> None:
        """Wait up to IDLE_TIMEOUT for a request to begin, then give its reads body_timeout each."""
        self.connection.settimeout(IDLE_TIMEOUT)
        try:
            started = t.cast(io.BufferedReader, self.rfile).peek(1)
        except (TimeoutError, OSError):
            started = b''
        if not started:
            self.close_connection = True
            return
        self.connection.settimeout(self.listener.body_timeout)
        try:
            super().handle_one_request()
        except TimeoutError:
            log.debug('%s: a request stalled for %.1f s; connection dropped', self.listener.endpoint, self.listener.body_timeout)
            self.close_connection = True

    # ---- responses ----------------------------------------------------------------------------

    def _respond(self, status, body=b'', content_type=None, headers=(), close=False, reason=''):
        """Write one response. WinRM's own responses have an empty reason phrase."""
        lines = ['HTTP/1.1 %d %s' % (status, reason)]
        if content_type:
            lines.append('Content-Type: ' + content_type)
        lines.append('Server: ' + SERVER_HEADER)
        lines.extend(headers)
        lines.append('Date: ' + self.date_time_string())
        if close:
            lines.append('Connection: close')
            self.close_connection = True
        lines.append('Content-Length: %d' % len(body))
        self.listener.stats.count_response()
        self.wfile.write(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + (b'' if self.command == 'HEAD' else body))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """HTTP.sys' own error page (bad request line, unknown path, unsupported version...)."""
        reason = message or self.responses.get(code, ('Error',))[0]
        page = (
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
            '<HTML><HEAD><TITLE>%s</TITLE>\r\n<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
            '<BODY><h2>%s</h2>\r\n<hr><p>HTTP Error %d. %s</p>\r\n</BODY></HTML>\r\n' % (reason, reason, code, explain or reason)
        ).encode('ascii', errors='replace')
        self._respond(code, page, 'text/html; charset=us-ascii', close=code >= 500 or code == 400, reason=reason)

    def _unauthorized(self, close=True):
        challenges = ['WWW-Authenticate: ' + value for mode, value in CHALLENGES if mode in self.listener.auth]
        self._respond(401, headers=challenges, close=close)

    # ---- request flow ---------------------------------------------------------------------------

    def _read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            self.send_error(411, 'Length Required', 'The request must be chunked or have a content length.')
            return None
        try:
            length = int(self.headers.get('Content-Length', '0'))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.send_error(400, 'Bad Request', 'Invalid Content-Length.')
            return None
        body = self.rfile.read(length) if length else b''
        if len(body) != length:
            # The client closed its side before sending the body it announced.
            self.close_connection = True
            return None
        return body

    def _not_post(self):
        self.listener.stats.count_http()
        body = self._read_body()
        if body is None:
            return
        if urlsplit(self.path).path.rstrip('/').lower() != WSMAN_PATH:
            self.send_error(404, 'Not Found', 'The requested resource is not found.')
        else:
            self._respond(405, headers=['Allow: POST'])

    do_GET = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _not_post

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        listener = self.listener
        listener.stats.count_http()
        faults = listener.faults.as_dict()
        body = self._read_body()
        if body is None:
            return
        if faults['reset']:
            # After the whole request is in, so the client is waiting for the answer and sees the RST.
            self._reset_connection()
            return
        if urlsplit(self.path).path.rstrip('/').lower() != WSMAN_PATH:
            self.send_error(404, 'Not Found', 'The requested resource is not found.')
            return
        if not listener.pause(faults['delay']):
            self.close_connection = True
            return
        handshaking = self.ntlm_user is None
        user = self._authenticate()
        if handshaking and self.ntlm_user is not None:
            # This request completed an NTLM handshake: Windows logs the user on (cost model).
            listener.charge(HANDSHAKE)
        if user is not None:
            self._answer(user, body)

    def _reset_connection(self):
        self.close_connection = True
        self.rfile.close()
        self.wfile.close()
        reset_socket(self.connection)

    def _lose_answer(self, lost):
        """The request was carried out; its answer never goes out: RST now (reset), or after hold_seconds a close (hold)."""
        if lost['how'] == 'reset':
            self._reset_connection()
            return
        self.listener.hold(lost['hold_seconds'])
        self.close_connection = True

    # ---- answering -------------------------------------------------------------------------------

    def _answer(self, user, body):
        content_type = self.headers.get('Content-Type', '')
        encrypted = content_type.lower().startswith('multipart/encrypted')
        charset = 'UTF-8'
        if encrypted:
            if self.ntlm_context is None or ENCRYPTED_PROTOCOL.lower() not in content_type.lower():
                self._unauthorized()
                return
            try:
                message, charset = decrypt_message(self.ntlm_context, body)
            except (SpnegoError, ValueError, struct.error) as error:
                log.debug('cannot decrypt a request on %s: %s', self.listener.endpoint, error)
                self.send_error(400, 'Bad Request', 'The encrypted request cannot be read.')
                return
        else:
            message = body
            # Windows' AllowUnencrypted=false: a plain message over http is refused with a 401.
            if message and self.listener.scheme == 'http' and not self.listener.allow_unencrypted:
                self._unauthorized()
                return
        if not message:
            # pywinrm and pypsrp authenticate with an empty POST before encrypting anything.
            self._respond(200)
            return
        status, reply, lost = self.listener.process(message, user)
        if lost is not None and lost['how'] != 'garble':
            self._lose_answer(lost)
            return
        if encrypted:
            self._respond(status, encrypt_message(self.ntlm_context, reply, charset), ENCRYPTED_CONTENT_TYPE)
        else:
            self._respond(status, reply, SOAP_CONTENT_TYPE)
