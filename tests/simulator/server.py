# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The network side of a simulated Windows host: a WinRM listener.

A WsmanListener serves one simulated host (anything with ``handle(body, username)``) on a
loopback address the way Windows' WinRM service answers on the wire: HTTP/1.1 keep-alive on
/wsman, HTTPAPI headers and status lines without a reason phrase, Basic, Negotiate (NTLM) and
client certificate authentication, NTLM message encryption over http ([MS-WSMV] 2.2.9.1.1),
and faults injected at the HTTP level: refused or reset connections, delays, HTTP 500 and
malformed bodies.
"""

import atexit
import base64
import contextlib
import hmac
import http.server
import ipaddress
import logging
import os
import re
import selectors
import socket
import ssl
import struct
import tempfile
import threading
import uuid
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import spnego
from spnego.exceptions import SpnegoError

from .tls import certificate_user

log = logging.getLogger(__name__)

WSMAN_PATH = '/wsman'
SERVER_HEADER = 'Microsoft-HTTPAPI/2.0'
SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8'
CERT_AUTH_HEADER = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual'
ENCRYPTED_PROTOCOL = 'application/HTTP-SPNEGO-session-encrypted'
ENCRYPTED_CONTENT_TYPE = 'multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"' % ENCRYPTED_PROTOCOL
BOUNDARY = b'--Encrypted Boundary'
AUTH_MODES = ('basic', 'ntlm', 'certificate')
# WWW-Authenticate values in the order Windows sends them (see http-401-unauthorized-headers.txt).
CHALLENGES = (('ntlm', 'Negotiate'), ('basic', 'Basic realm="WSMAN"'))
MALFORMED_KINDS = ('garbage', 'truncated')
GARBAGE_BODY = b'\x00\x1fThis is not XML: the simulated host sent garbage.\xff\xfe'
IDLE_TIMEOUT = 120.0      # HTTP.sys drops idle keep-alive connections after about two minutes
HANDSHAKE_TIMEOUT = 10.0
MAX_BODY = 16 * 1024 * 1024
STOP_JOIN_SECONDS = 5.0

FAULT_NAMESPACES = (
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" '
    'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"')
INTERNAL_ERROR_REASON = ('The WS-Management service cannot process the request. The maximum number of concurrent operations '
                         'for this user has been exceeded. Close existing operations for this user, or raise the quota for this user.')
INTERNAL_ERROR_MESSAGE = ('The WS-Management service cannot process the request. This user is allowed a maximum number of 15 '
                          'concurrent operations, which has been exceeded. Close existing operations for this user, or raise '
                          'the quota for this user.')


def require_loopback(address):
    """Return the address if it is a loopback IP literal; anything else is a ValueError."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError('the simulator serves only loopback IP addresses, not %r' % (address,)) from None
    if not parsed.is_loopback:
        raise ValueError('the simulator serves only loopback addresses (127.0.0.0/8, ::1), not %s' % address)
    return str(parsed)


def endpoint_url(scheme, address, port):
    host = '[%s]' % address if ':' in address else address
    return '%s://%s:%d%s' % (scheme, host, port, WSMAN_PATH)


def _fault_property(name):
    def getter(self):
        return self.as_dict()[name]

    def setter(self, value):
        self.update(**{name: value})
    return property(getter, setter)


class FaultSettings:
    """Wire-level faults of one listener; changes apply to the next request (refuse: at once)."""

    DEFAULTS = {'refuse': False, 'reset': False, 'delay': 0.0, 'http_500': False, 'malformed': None, 'endless_enumeration': False}

    refuse = _fault_property('refuse')
    reset = _fault_property('reset')
    delay = _fault_property('delay')
    http_500 = _fault_property('http_500')
    malformed = _fault_property('malformed')
    endless_enumeration = _fault_property('endless_enumeration')

    def __init__(self, on_change=None):
        self._lock = threading.Lock()
        self._values = dict(self.DEFAULTS)
        self._on_change = on_change

    @staticmethod
    def _validate(name, value):
        if name not in FaultSettings.DEFAULTS:
            raise ValueError('unknown fault %r; known: %s' % (name, ', '.join(FaultSettings.DEFAULTS)))
        if name == 'delay':
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
                raise ValueError('delay must be a number of seconds between 0 and 3600, not %r' % (value,))
            return float(value)
        if name == 'malformed':
            if value is not None and value not in MALFORMED_KINDS:
                raise ValueError('malformed must be null, "garbage" or "truncated", not %r' % (value,))
            return value
        if not isinstance(value, bool):
            raise ValueError('%s must be true or false, not %r' % (name, value))
        return value

    def update(self, **changes):
        """Set some faults; returns all of them. Unknown names or bad values raise ValueError."""
        checked = {name: self._validate(name, value) for name, value in changes.items()}
        with self._lock:
            changed = [name for name, value in checked.items() if self._values[name] != value]
            self._values.update(checked)
        if changed and self._on_change:
            self._on_change(changed)
        return self.as_dict()

    def clear(self):
        return self.update(**self.DEFAULTS)

    def as_dict(self):
        with self._lock:
            return dict(self._values)


class ListenerStats:
    """Request counters of one listener (HTTP requests include every authentication leg)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._http_requests = 0
        self._soap_requests = 0
        self._by_action = {}

    def reset(self):
        with self._lock:
            self._http_requests = 0
            self._soap_requests = 0
            self._by_action = {}

    def count_http(self):
        with self._lock:
            self._http_requests += 1

    def count_soap(self, action):
        # Keyed by the action's last segment: Enumerate, Pull, Get, StartService, SetDWORDValue...
        key = action.rstrip('/').rsplit('/', 1)[-1] if action else 'unknown'
        with self._lock:
            self._soap_requests += 1
            self._by_action[key] = self._by_action.get(key, 0) + 1

    def as_dict(self):
        with self._lock:
            return {'http_requests': self._http_requests, 'soap_requests': self._soap_requests, 'by_action': dict(self._by_action)}


class _NtlmUserFile:
    """The NTLM_USER_FILE that pyspnego's acceptor reads: one file per process.

    pyspnego takes the path only from the environment and looks the client up by (domain, user)
    when it checks the Authenticate message. The variable is pointed at this process' file once;
    the line for the client's exact (domain, user) form is written just before that check, under
    a lock held across it, so listeners may give one user different passwords.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._path = None
        self._passwords = {}

    def _ensure_file(self):
        if self._path is None:
            handle, self._path = tempfile.mkstemp(prefix='xpgo-sim-ntlm-', suffix='.txt')
            os.close(handle)
            atexit.register(self._remove)
        if os.environ.get('NTLM_USER_FILE') != self._path:
            os.environ['NTLM_USER_FILE'] = self._path

    def _remove(self):
        with contextlib.suppress(OSError):
            os.remove(self._path)

    def prepare(self):
        """Make sure the file exists: pyspnego refuses to create an acceptor without it."""
        with self._lock:
            self._ensure_file()

    @contextlib.contextmanager
    def credential(self, domain, user, password):
        """Hold the file with the line `domain:user:password` in it."""
        with self._lock:
            self._ensure_file()
            key = (domain.upper(), user.upper())
            if self._passwords.get(key) != password:
                self._passwords[key] = password
                lines = ''.join('%s:%s:%s\n' % (line_domain, line_user, line_password)
                                for (line_domain, line_user), line_password in self._passwords.items())
                temporary = self._path + '.new'
                with open(temporary, 'w', encoding='utf-8') as handle:
                    handle.write(lines)
                os.chmod(temporary, 0o600)
                os.replace(temporary, self._path)
            yield


NTLM_USERS = _NtlmUserFile()


def ntlm_authenticate_names(token):
    """(domain, user) from an NTLM AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3); ValueError if it is none."""
    if len(token) < 64 or token[:8] != b'NTLMSSP\x00' or struct.unpack_from('<I', token, 8)[0] != 3:
        raise ValueError('not an NTLM AUTHENTICATE message')
    flags = struct.unpack_from('<I', token, 60)[0]
    encoding = 'utf-16-le' if flags & 0x1 else 'latin-1'

    def field(offset):
        length, _max_length, start = struct.unpack_from('<HHI', token, offset)
        if start + length > len(token):
            raise ValueError('NTLM field outside the message')
        return token[start:start + length].decode(encoding)
    return field(28), field(36)


def encrypt_message(context, message, charset='UTF-8'):
    """Frame `message` as WinRM's multipart/encrypted body sealed with the NTLM context."""
    sealed = context.wrap_winrm(message)
    blob = struct.pack('<I', len(sealed.header)) + sealed.header + sealed.data
    return (BOUNDARY + b'\r\n'
            + b'\tContent-Type: ' + ENCRYPTED_PROTOCOL.encode() + b'\r\n'
            + b'\tOriginalContent: type=application/soap+xml;charset=' + charset.encode() + b';Length=%d\r\n' % len(message)
            + BOUNDARY + b'\r\n'
            + b'\tContent-Type: application/octet-stream\r\n'
            + blob + BOUNDARY + b'--\r\n')


def decrypt_message(context, body):
    """(message, charset) from a multipart/encrypted body; ValueError when the framing is wrong."""
    start = BOUNDARY + b'\r\n'
    if not body.startswith(start):
        raise ValueError('encrypted body does not start with the MIME boundary')
    header_block, separator, rest = body[len(start):].partition(start)
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
            blob = blob[:-len(ending)]
            break
    else:
        raise ValueError('encrypted body does not end with the closing MIME boundary')
    if len(blob) < 4:
        raise ValueError('encrypted payload is too short')
    signature_length = struct.unpack_from('<I', blob)[0]
    message = context.unwrap_winrm(blob[4:4 + signature_length], blob[4 + signature_length:])
    if len(message) != length:
        raise ValueError('decrypted length %d differs from OriginalContent Length %d' % (len(message), length))
    return message, charset


def _soap_text(message):
    if message[:2] in (b'\xff\xfe', b'\xfe\xff') or b'\x00' in message[:4]:
        return message.decode('utf-16', errors='replace')
    return message.decode('utf-8', errors='replace')


def _header_value(text, local_name):
    match = re.search(r'<(?:[\w.-]+:)?%s\b[^>]*>\s*([^<]*?)\s*</' % local_name, text)
    return match.group(1) if match else None


def internal_error_fault(machine, relates_to):
    """The w:InternalError fault Windows sends when the WinRM service itself fails (HTTP 500)."""
    relates = '<a:RelatesTo>%s</a:RelatesTo>' % escape(relates_to) if relates_to else ''
    return (
        '<s:Envelope xml:lang="en-US" %s><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>'
        '<a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>%s'
        '</s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value>'
        '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail>'
        '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859174" Machine="%s">'
        '<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>'
        % (FAULT_NAMESPACES, str(uuid.uuid4()).upper(), relates, INTERNAL_ERROR_REASON, escape(machine, {'"': '&quot;'}),
           INTERNAL_ERROR_MESSAGE)).encode('utf-8')


class Acceptor:
    """One thread that accepts connections for many listeners (a fleet of 200 needs one, not 200)."""

    def __init__(self):
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._tasks = []
        self._tasks_lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._run, name='xpgo-sim-acceptor', daemon=True)
        self._thread.start()

    def _call(self, task):
        """Run task in the acceptor thread (selectors are not thread-safe) and wait for it."""
        done = threading.Event()
        outcome = {}

        def run():
            try:
                task()
            except Exception as error:  # pylint: disable=broad-exception-caught
                outcome['error'] = error
            finally:
                done.set()
        with self._tasks_lock:
            if not self._running:
                raise RuntimeError('the acceptor is closed')
            self._tasks.append(run)
        self._wake_writer.send(b'x')
        done.wait()
        if 'error' in outcome:
            raise outcome['error']

    def add(self, sock, on_accept):
        sock.setblocking(False)
        self._call(lambda: self._selector.register(sock, selectors.EVENT_READ, on_accept))

    def remove(self, sock):
        self._call(lambda: self._selector.unregister(sock))

    def _run_tasks(self):
        with contextlib.suppress(BlockingIOError):
            while self._wake_reader.recv(4096):
                pass
        with self._tasks_lock:
            tasks, self._tasks = self._tasks, []
        for task in tasks:
            task()

    def _run(self):
        while self._running:
            for key, _events in self._selector.select():
                if key.data is None:
                    self._run_tasks()
                    continue
                try:
                    connection, address = key.fileobj.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as error:
                    log.debug('accept failed: %s', error)
                    continue
                key.data(connection, address)

    def close(self):
        def stop():
            self._running = False
        if self._thread.is_alive():
            self._call(stop)
            self._thread.join()
        with self._tasks_lock:
            self._running = False
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()


class _Connection:
    """One accepted TCP connection; `sock` becomes the TLS socket once the handshake is done."""

    def __init__(self, sock):
        self.sock = sock

    def abort(self):
        # socket.socket.shutdown, not SSLSocket.shutdown: that one drops its TLS state under the
        # handler thread's feet.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


def reset_socket(sock):
    """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class WsmanRequestHandler(http.server.BaseHTTPRequestHandler):
    """Serves the HTTP requests of one connection. NTLM authenticates the connection, not a request."""

    protocol_version = 'HTTP/1.1'
    server_version = SERVER_HEADER
    sys_version = ''
    timeout = IDLE_TIMEOUT

    def __init__(self, request, client_address, listener):
        self.listener = listener
        self.ntlm_context = None
        self.ntlm_user = None
        super().__init__(request, client_address, listener)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log.debug('%s %s', self.listener.endpoint, format % args)

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
        self.wfile.write(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + (b'' if self.command == 'HEAD' else body))

    def send_error(self, code, message=None, explain=None):
        """HTTP.sys' own error page (bad request line, unknown path, unsupported version...)."""
        reason = message or self.responses.get(code, ('Error',))[0]
        page = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
                '<HTML><HEAD><TITLE>%s</TITLE>\r\n<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
                '<BODY><h2>%s</h2>\r\n<hr><p>HTTP Error %d. %s</p>\r\n</BODY></HTML>\r\n'
                % (reason, reason, code, explain or reason)).encode('ascii', errors='replace')
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
        return self.rfile.read(length) if length else b''

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

    def do_POST(self):  # pylint: disable=invalid-name
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
        user = self._authenticate()
        if user is not None:
            self._answer(user, body)

    def _reset_connection(self):
        self.close_connection = True
        self.rfile.close()
        self.wfile.close()
        reset_socket(self.connection)

    # ---- authentication ------------------------------------------------------------------------

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
        try:
            name, _sep, password = base64.b64decode(token, validate=True).decode('utf-8').partition(':')
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
        status, reply = self.listener.process(message, user)
        if encrypted:
            self._respond(status, encrypt_message(self.ntlm_context, reply, charset), ENCRYPTED_CONTENT_TYPE)
        else:
            self._respond(status, reply, SOAP_CONTENT_TYPE)


class WsmanListener:
    """A WinRM listener for one simulated host on a loopback address."""

    def __init__(self, state, address='127.0.0.1', port=0, scheme='http', auth='basic', users=None, tls=None,
                 delay=0.0, allow_unencrypted=None, acceptor=None, name=None):
        self.state = state
        self.name = name or getattr(state, 'name', address)
        self.address = require_loopback(address)
        self.auth = (auth,) if isinstance(auth, str) else tuple(auth)
        unknown = [mode for mode in self.auth if mode not in AUTH_MODES]
        if unknown or not self.auth:
            raise ValueError('auth must be one or more of %s, not %r' % (', '.join(AUTH_MODES), auth))
        if scheme not in ('http', 'https'):
            raise ValueError('scheme must be http or https, not %r' % (scheme,))
        if scheme == 'https' and tls is None:
            raise ValueError('https needs TLS material (tests.simulator.tls.TlsMaterial)')
        if 'certificate' in self.auth and scheme != 'https':
            raise ValueError('certificate authentication needs https')
        self.scheme = scheme
        self.users = dict(users or {})
        if not self.users:
            raise ValueError('a listener needs at least one user')
        self._users_by_key = {user.lower(): user for user in self.users}
        if 'ntlm' in self.auth and any(':' in user + password or '\n' in user + password for user, password in self.users.items()):
            raise ValueError('NTLM user names and passwords cannot contain ":" or newlines (NTLM_USER_FILE format)')
        # Basic over http only works when the service allows unencrypted traffic, so enabling
        # basic on http implies it, as it does on a real host.
        self.allow_unencrypted = (scheme == 'https' or 'basic' in self.auth) if allow_unencrypted is None else allow_unencrypted
        self._ssl_context = tls.server_context('certificate' in self.auth) if scheme == 'https' else None
        self.base_delay = float(delay)
        self.port = port
        self.faults = FaultSettings(on_change=self._faults_changed)
        self.stats = ListenerStats()
        self._acceptor = acceptor
        self._owns_acceptor = acceptor is None
        self._lock = threading.RLock()
        self._socket = None
        self._connections = set()
        self._threads = set()
        self._stopping = threading.Event()
        self._started = False

    @property
    def endpoint(self):
        return endpoint_url(self.scheme, self.address, self.port)

    def find_user(self, name):
        """Canonical user for a client's name: case-insensitive, DOMAIN\\user and user@domain accepted."""
        if not name:
            return None
        bare = name.rsplit('\\', 1)[-1].split('@', 1)[0]
        return self._users_by_key.get(bare.lower())

    def start(self):
        with self._lock:
            if self._started:
                return self
            if self._acceptor is None:
                self._acceptor = Acceptor()
            self._open()
            self._started = True
        return self

    def _open(self):
        family = socket.AF_INET6 if ':' in self.address else socket.AF_INET
        sock = socket.create_server((self.address, self.port), family=family, backlog=128)
        self.port = sock.getsockname()[1]
        self._acceptor.add(sock, self._accepted)
        self._socket = sock

    def _close_listening(self):
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(RuntimeError):
                self._acceptor.remove(sock)
            sock.close()

    def _drop_connections(self):
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.abort()

    def _faults_changed(self, names):
        values = self.faults.as_dict()
        if 'endless_enumeration' in names:
            self.state.endless_enumeration = values['endless_enumeration']
        if 'refuse' in names:
            with self._lock:
                if not self._started or self._stopping.is_set():
                    return
                if values['refuse']:
                    # Closed listening socket: new connections are refused by the kernel.
                    self._close_listening()
                    self._drop_connections()
                elif self._socket is None:
                    self._open()

    def _accepted(self, sock, client_address):
        """Called in the acceptor thread: hand the connection to a thread of its own."""
        if self._stopping.is_set() or self.faults.refuse:
            reset_socket(sock)
            return
        connection = _Connection(sock)
        thread = threading.Thread(target=self._serve, args=(connection, client_address), daemon=True,
                                  name='xpgo-sim-%s-%d' % (self.name, self.port))
        with self._lock:
            self._connections.add(connection)
            self._threads.add(thread)
        thread.start()

    def _serve(self, connection, client_address):
        try:
            if self._ssl_context is not None:
                connection.sock.settimeout(HANDSHAKE_TIMEOUT)
                connection.sock = self._ssl_context.wrap_socket(connection.sock, server_side=True)
            if not self._stopping.is_set():
                WsmanRequestHandler(connection.sock, client_address, self)
        except (OSError, ValueError) as error:
            log.debug('connection from %s to %s ended: %s', client_address, self.endpoint, error)
        finally:
            with contextlib.suppress(OSError):
                connection.sock.close()
            with self._lock:
                self._connections.discard(connection)
                self._threads.discard(threading.current_thread())

    def pause(self, fault_delay):
        """Wait the configured delay; False when the listener stops meanwhile."""
        seconds = self.base_delay + fault_delay
        return not (seconds > 0 and self._stopping.wait(seconds)) and not self._stopping.is_set()

    def process(self, message, user):
        """Status and body for one authenticated SOAP message, with the faults applied."""
        text = _soap_text(message)
        self.stats.count_soap(_header_value(text, 'Action'))
        faults = self.faults.as_dict()
        if faults['http_500']:
            return 500, internal_error_fault(self.name, _header_value(text, 'MessageID'))
        try:
            status, reply = self.state.handle(message, user)
        except Exception:  # pylint: disable=broad-exception-caught
            # A simulator bug must still reach the client as a fault, and the log says where.
            log.exception('simulated host %s failed on a request', self.name)
            return 500, internal_error_fault(self.name, _header_value(text, 'MessageID'))
        if faults['malformed'] == 'garbage':
            return 200, GARBAGE_BODY
        if faults['malformed'] == 'truncated':
            return 200, reply[:len(reply) // 2]
        return status, reply

    def reset(self):
        """Faults cleared and counters zeroed (the host's own state is the caller's business)."""
        self.faults.clear()
        self.stats.reset()

    def stop(self):
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            if self._started:
                self._close_listening()
        self._drop_connections()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(STOP_JOIN_SECONDS)
        if self._owns_acceptor and self._acceptor is not None:
            self._acceptor.close()
