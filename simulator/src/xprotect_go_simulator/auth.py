# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Authentication and message encryption of a simulated WinRM listener.

Basic (credentials decoded in the listener's code page, as Windows does), Negotiate (NTLM, through
pyspnego's acceptor) and client certificates (https), and WinRM's NTLM message encryption over http
([MS-WSMV] 2.2.9.1.1): multipart/encrypted bodies.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hmac
import logging
import os
import ssl
import struct
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Iterator, Optional

import spnego
from spnego.exceptions import SpnegoError

from .tls import certificate_user

log = logging.getLogger(__name__)

CERT_AUTH_HEADER = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual'
ENCRYPTED_PROTOCOL = 'application/HTTP-SPNEGO-session-encrypted'
ENCRYPTED_CONTENT_TYPE = 'multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"' % ENCRYPTED_PROTOCOL
BOUNDARY = b'--Encrypted Boundary'
AUTH_MODES = ('basic', 'ntlm', 'certificate')
# WWW-Authenticate values in the order Windows sends them (see http-401-unauthorized-headers.txt).
CHALLENGES = (('ntlm', 'Negotiate'), ('basic', 'Basic realm="WSMAN"'))


class _NtlmUserFile:
    """The NTLM_USER_FILE that pyspnego's acceptor reads: one file per process.

    pyspnego takes the path only from the environment and looks the client up by (domain, user)
    when it checks the Authenticate message. The variable is pointed at this process' file once;
    the line for the client's exact (domain, user) form is written just before that check, under
    a lock held across it, so listeners may give one user different passwords.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._path: Optional[str] = None
        self._passwords: dict[tuple[str, str], str] = {}

    def _ensure_file(self):
        if self._path is None:
            handle, self._path = tempfile.mkstemp(prefix='xpgo-sim-ntlm-', suffix='.txt')
            os.close(handle)
            atexit.register(self._remove)
        if os.environ.get('NTLM_USER_FILE') != self._path:
            os.environ['NTLM_USER_FILE'] = self._path

    def _remove(self):
        with contextlib.suppress(OSError):
            os.remove(self._path)  # type: ignore[arg-type]

    def prepare(self) -> None:
        """Make sure the file exists: pyspnego refuses to create an acceptor without it."""
        with self._lock:
            self._ensure_file()

    @contextlib.contextmanager
    def credential(self, domain: str, user: str, password: str) -> Iterator[None]:
        """Hold the file with the line `domain:user:password` in it."""
        with self._lock:
            self._ensure_file()
            key = (domain.upper(), user.upper())
            if self._passwords.get(key) != password:
                self._passwords[key] = password
                lines = ''.join(
                    '%s:%s:%s\n' % (line_domain, line_user, line_password)
                    for (line_domain, line_user), line_password in self._passwords.items()
                )
                path = self._path
                assert path is not None
                temporary = path + '.new'
                with open(temporary, 'w', encoding='utf-8') as handle:
                    handle.write(lines)
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            yield


NTLM_USERS = _NtlmUserFile()


def ntlm_authenticate_names(token: bytes) -> tuple[str, str]:
    """(domain, user) from an NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3); ValueError if it is none."""
    if len(token) < 64 or token[:8] != b'NTLMSSP\x00' or struct.unpack_from('<I', token, 8)[0] != 3:
        raise ValueError('not an NTLM AUTHENTICATE message')
    flags = struct.unpack_from('<I', token, 60)[0]
    encoding = 'utf-16-le' if flags & 0x1 else 'latin-1'

    def field(offset):
        length, _max_length, start = struct.unpack_from('<HHI', token, offset)
        if start + length > len(token):
            raise ValueError('NTLM field outside the message')
        return token[start : start + length].decode(encoding)

    return field(28), field(36)


def encrypt_message(context: Any, message: bytes, charset: str = 'UTF-8') -> bytes:
    """Frame `message` as WinRM's multipart/encrypted body sealed with the NTLM context."""
    sealed = context.wrap_winrm(message)
    blob = struct.pack('<I', len(sealed.header)) + sealed.header + sealed.data
    return (
        BOUNDARY
        + b'\r\n'
        + b'\tContent-Type: '
        + ENCRYPTED_PROTOCOL.encode()
        + b'\r\n'
        + b'\tOriginalContent: type=application/soap+xml;charset='
        + charset.encode()
        + b';Length=%d\r\n' % len(message)
        + BOUNDARY
        + b'\r\n'
        + b'\tContent-Type: application/octet-stream\r\n'
        + blob
        + BOUNDARY
        + b'--\r\n'
    )


def decrypt_message(context: Any, body: bytes) -> tuple[bytes, str]:
    """(message, charset) from a multipart/encrypted body; ValueError when the framing is wrong."""
    start = BOUNDARY + b'\r\n'
    if not body.startswith(start):
        raise ValueError('encrypted body does not start with the MIME boundary')
    header_block, separator, rest = body[len(start) :].partition(start)
    if not separator:
        raise ValueError('encrypted body has no second MIME part')
    headers = {}
    for line in header_block.decode('latin-1').splitlines():
        name, _sep, value = line.strip().partition(':')
        headers[name.strip().lower()] = value.strip()
    if headers.get('content-type', '').lower() != ENCRYPTED_PROTOCOL.lower():
        raise ValueError('first MIME part is not %s' % ENCRYPTED_PROTOCOL)
    original = dict(item.strip().partition('=')[::2] for item in headers.get('originalcontent', '').split(';'))
    charset = original.get('charset', 'UTF-8')
    length = int(original.get('Length', '-1'))
    part_header, newline, blob = rest.partition(b'\r\n')
    if not newline or part_header.strip().lower() != b'content-type: application/octet-stream':
        raise ValueError('second MIME part is not application/octet-stream')
    for ending in (BOUNDARY + b'--\r\n', BOUNDARY + b'--'):
        if blob.endswith(ending):
            blob = blob[: -len(ending)]
            break
    else:
        raise ValueError('encrypted body does not end with the closing MIME boundary')
    if len(blob) < 4:
        raise ValueError('encrypted payload is too short')
    signature_length = struct.unpack_from('<I', blob)[0]
    message = context.unwrap_winrm(blob[4 : 4 + signature_length], blob[4 + signature_length :])
    if len(message) != length:
        raise ValueError('decrypted length %d differs from OriginalContent Length %d' % (len(message), length))
    return message, charset


class AuthenticationMixin:
    """The authentication steps of WsmanRequestHandler (handler.py). NTLM authenticates the connection."""

    if TYPE_CHECKING:
        # Provided by WsmanRequestHandler (handler.py) and http.server.BaseHTTPRequestHandler.
        headers: Any
        connection: Any
        listener: Any
        ntlm_context: Any
        ntlm_user: Optional[str]
        _unauthorized: Any
        _respond: Any

    def _authenticate(self):
        """The user this request runs as, or None once a 401 has been sent."""
        header = self.headers.get('Authorization', '').strip()
        scheme, _sep, token = header.partition(' ')
        scheme = scheme.lower()
        auth = self.listener.auth
        if not header:
            if self.ntlm_user is not None:
                return self.ntlm_user
            self._unauthorized(close=False)
            return None
        if header.lower() == CERT_AUTH_HEADER and 'certificate' in auth:
            return self._certificate_user()
        if scheme == 'basic' and 'basic' in auth:
            return self._basic_user(token.strip())
        if scheme == 'negotiate' and 'ntlm' in auth:
            return self._ntlm_step(token.strip())
        self._unauthorized()
        return None

    def _certificate_user(self):
        der = self.connection.getpeercert(binary_form=True) if isinstance(self.connection, ssl.SSLSocket) else None
        user = self.listener.find_user(certificate_user(der)) if der else None
        if user is None:
            self._unauthorized()
        return user

    def _basic_user(self, token):
        # Windows decodes Basic credentials in the host's ANSI code page (Windows-1252 on English and
        # Western European installs), not as UTF-8: a UTF-8 client's "é" arrives as "Ã©" and is refused.
        try:
            name, _sep, password = base64.b64decode(token, validate=True).decode(self.listener.code_page).partition(':')
        except (ValueError, UnicodeDecodeError):
            name = password = ''
        user = self.listener.find_user(name)
        if user is None or not hmac.compare_digest(self.listener.users[user].encode('utf-8'), password.encode('utf-8')):
            self._unauthorized()
            return None
        return user

    def _ntlm_step(self, token):
        try:
            data = base64.b64decode(token, validate=True)
        except ValueError:
            data = b''
        message_type = struct.unpack_from('<I', data, 8)[0] if len(data) >= 12 and data[:8] == b'NTLMSSP\x00' else None
        try:
            if message_type == 1:
                # A new handshake, on this connection only (it is connection-based).
                self.ntlm_context, self.ntlm_user = None, None
                NTLM_USERS.prepare()
                context = spnego.server(protocol='ntlm', service='HTTP', options=spnego.NegotiateOptions.use_ntlm)
                challenge = context.step(data)
                self.ntlm_context = context
                self._unauthorized_challenge(challenge)
                return None
            if message_type == 3 and self.ntlm_context is not None:
                return self._ntlm_finish(data)
        except (SpnegoError, ValueError, struct.error) as error:
            log.debug('NTLM authentication failed on %s: %s', self.listener.endpoint, error)
        self.ntlm_context, self.ntlm_user = None, None
        self._unauthorized()
        return None

    def _unauthorized_challenge(self, challenge):
        self._respond(401, headers=['WWW-Authenticate: Negotiate ' + base64.b64encode(challenge).decode('ascii')])

    def _ntlm_finish(self, data):
        domain, name = ntlm_authenticate_names(data)
        user = self.listener.find_user(name)
        if user is None or ':' in domain + name:
            raise ValueError('unknown user %r' % name)
        with NTLM_USERS.credential(domain, name, self.listener.users[user]):
            self.ntlm_context.step(data)
        if not self.ntlm_context.complete:
            raise ValueError('NTLM context incomplete')
        self.ntlm_user = user
        return user
