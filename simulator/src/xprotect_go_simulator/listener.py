# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The network side of a simulated Windows host: a WinRM listener.

A WsmanListener serves one simulated host (anything with ``handle(body, username)``) on a
loopback address the way Windows' WinRM service answers on the wire: HTTP/1.1 keep-alive on
/wsman, HTTPAPI headers and status lines without a reason phrase (handler.py), Basic, Negotiate
(NTLM) and client certificate authentication, NTLM message encryption over http ([MS-WSMV]
2.2.9.1.1) (auth.py), and faults injected at the HTTP level: refused or reset connections,
delays, HTTP 500, malformed bodies, and answers lost after the request was carried out (faults.py).
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import logging
import socket
import threading
import typing as t

from . import costs
from .acceptor import Acceptor, Connection, reset_socket
from .auth import AUTH_MODES
from .faults import GARBAGE_BODY, FaultSettings, header_value, internal_error_fault, request_service, soap_text
from .handler import REQUEST_TIMEOUT, WSMAN_PATH, WsmanRequestHandler

if t.TYPE_CHECKING:
    from .tls import TlsMaterial

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 10.0
STOP_JOIN_SECONDS = 5.0
# The ANSI code page Windows decodes Basic credentials in (Windows-1252: English and Western European installs).
DEFAULT_CODE_PAGE = 'cp1252'


def require_loopback(address: str) -> str:
    """Return the address if it is a loopback IP literal; anything else is a ValueError."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError('the simulator serves only loopback IP addresses, not %r' % (address,)) from None
    if not parsed.is_loopback:
        raise ValueError('the simulator serves only loopback addresses (127.0.0.0/8, ::1), not %s' % address)
    return str(parsed)


def endpoint_url(scheme: str, address: str, port: int) -> str:
    host = '[%s]' % address if ':' in address else address
    return '%s://%s:%d%s' % (scheme, host, port, WSMAN_PATH)


def _action_key(action):
    # An action's last segment: Enumerate, Pull, Get, StartService, SetDWORDValue...
    return action.rstrip('/').rsplit('/', 1)[-1] if action else 'unknown'


class ListenerStats:
    """Request counters of one listener (HTTP requests include every authentication leg).

    Besides requests: HTTP responses written, answers held back by a delay (and the seconds waited out),
    answers lost by the lose_answer fault, by action, and what the cost model charged, by operation kind.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._http_requests = 0
            self._http_responses = 0
            self._soap_requests = 0
            self._by_action: dict[str, int] = {}
            self._delayed_answers = 0
            self._delayed_seconds = 0.0
            self._lost_answers: dict[str, int] = {}
            self._charged: dict[str, dict[str, t.Any]] = {}
            self._charged_seconds = 0.0

    def count_http(self) -> None:
        with self._lock:
            self._http_requests += 1

    def count_response(self) -> None:
        with self._lock:
            self._http_responses += 1

    def count_delay(self, seconds: float) -> None:
        """An answer held back `seconds` (a delay waited out in full)."""
        with self._lock:
            self._delayed_answers += 1
            self._delayed_seconds = round(self._delayed_seconds + seconds, 6)

    def count_lost(self, action: str | None) -> None:
        key = _action_key(action)
        with self._lock:
            self._lost_answers[key] = self._lost_answers.get(key, 0) + 1

    def count_charge(self, kind: str, seconds: float) -> None:
        """One operation of this kind charged `seconds` by the cost model (waited out in full)."""
        with self._lock:
            entry = self._charged.setdefault(kind, {'count': 0, 'seconds': 0.0})
            entry['count'] += 1
            entry['seconds'] = round(entry['seconds'] + seconds, 6)
            self._charged_seconds = round(self._charged_seconds + seconds, 6)

    def count_soap(self, action: str | None) -> None:
        key = _action_key(action)
        with self._lock:
            self._soap_requests += 1
            self._by_action[key] = self._by_action.get(key, 0) + 1

    def as_dict(self) -> dict[str, t.Any]:
        with self._lock:
            return {
                'http_requests': self._http_requests,
                'http_responses': self._http_responses,
                'soap_requests': self._soap_requests,
                'by_action': dict(self._by_action),
                'delayed_answers': self._delayed_answers,
                'delayed_seconds': self._delayed_seconds,
                'lost_answers': dict(self._lost_answers),
                'charged': {kind: dict(entry) for kind, entry in self._charged.items()},
                'charged_seconds': self._charged_seconds,
            }


class WsmanListener:
    """A WinRM listener for one simulated host on a loopback address.

    code_page: what Basic credentials are decoded with, as Windows does in the host's ANSI code page
    (default Windows-1252); any Python codec name ('cp1251', 'utf-8', ...). cost_model: what Windows takes
    for each operation (costs.py: 'instant', the default, or 'windows'), waited out before the host answers.
    """

    def __init__(
        self,
        state: t.Any,
        address: str = '127.0.0.1',
        port: int = 0,
        scheme: str = 'http',
        auth: str | t.Iterable[str] = 'basic',
        users: t.Mapping[str, str] | None = None,
        tls: TlsMaterial | None = None,
        delay: float = 0.0,
        allow_unencrypted: bool | None = None,
        acceptor: Acceptor | None = None,
        name: str | None = None,
        body_timeout: float = REQUEST_TIMEOUT,
        code_page: str = DEFAULT_CODE_PAGE,
        cost_model: costs.CostModel | str | None = None,
    ) -> None:
        self.state = state
        self.name: str = t.cast(str, name or getattr(state, 'name', address))
        self.address = require_loopback(address)
        self.auth = (auth,) if isinstance(auth, str) else tuple(auth)
        unknown = [mode for mode in self.auth if mode not in AUTH_MODES]
        if unknown or not self.auth:
            raise ValueError('auth must be one or more of %s, not %r' % (', '.join(AUTH_MODES), auth))
        if scheme not in ('http', 'https'):
            raise ValueError('scheme must be http or https, not %r' % (scheme,))
        if scheme == 'https' and tls is None:
            raise ValueError('https needs TLS material (xprotect_go_simulator.tls.TlsMaterial)')
        if 'certificate' in self.auth and scheme != 'https':
            raise ValueError('certificate authentication needs https')
        self.scheme = scheme
        try:
            self.code_page = codecs.lookup(code_page).name
        except (LookupError, TypeError):
            raise ValueError('code_page must name a text encoding (cp1252, cp1251, utf-8...), not %r' % (code_page,)) from None
        self.users = dict(users or {})
        if not self.users:
            raise ValueError('a listener needs at least one user')
        self._users_by_key = {user.lower(): user for user in self.users}
        if 'ntlm' in self.auth and any(':' in user + password or '\n' in user + password for user, password in self.users.items()):
            raise ValueError('NTLM user names and passwords cannot contain ":" or newlines (NTLM_USER_FILE format)')
        # Basic over http only works when the service allows unencrypted traffic, so enabling
        # basic on http implies it, as it does on a real host.
        self.allow_unencrypted = (scheme == 'https' or 'basic' in self.auth) if allow_unencrypted is None else allow_unencrypted
        self._ssl_context = t.cast('TlsMaterial', tls).server_context('certificate' in self.auth) if scheme == 'https' else None
        self.base_delay = float(delay)
        self.cost_model = costs.resolve(cost_model)
        self.body_timeout = float(body_timeout)
        self.port = port
        self.faults = FaultSettings(on_change=self._faults_changed)
        self.stats = ListenerStats()
        self._acceptor = acceptor
        self._owns_acceptor = acceptor is None
        self._lock = threading.RLock()
        self._socket: socket.socket | None = None
        self._connections: set[Connection] = set()
        self._threads: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._started = False

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.scheme, self.address, self.port)

    def find_user(self, name: str | None) -> str | None:
        """Canonical user for a client's name: case-insensitive, DOMAIN\\user and user@domain accepted."""
        if not name:
            return None
        bare = name.rsplit('\\', 1)[-1].split('@', 1)[0]
        return self._users_by_key.get(bare.lower())

    def start(self) -> WsmanListener:
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
        t.cast(Acceptor, self._acceptor).add(sock, self._accepted)
        self._socket = sock

    def _close_listening(self):
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(RuntimeError):
                t.cast(Acceptor, self._acceptor).remove(sock)
            sock.close()

    def _drop_connections(self):
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.abort()

    def _faults_changed(self, names):
        values = self.faults.as_dict()
        for name in ('endless_enumeration', 'enumeration_timeout'):
            if name in names and hasattr(self.state, name):
                setattr(self.state, name, values[name])
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
        connection = Connection(sock)
        thread = threading.Thread(
            target=self._serve, args=(connection, client_address), daemon=True, name='xpgo-sim-%s-%d' % (self.name, self.port)
        )
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

    def pause(self, fault_delay: float) -> bool:
        """Wait the configured delay; False when the listener stops meanwhile."""
        seconds = self.base_delay + fault_delay
        if seconds <= 0:
            return not self._stopping.is_set()
        if self._stopping.wait(seconds):
            return False
        self.stats.count_delay(seconds)
        return True

    def charge(self, kind: str | None) -> None:
        """Wait what the cost model says Windows takes for this kind of operation (None: nothing).

        Called by the request's own thread with no lock held, so the host serves other requests meanwhile.
        """
        model = self.cost_model
        if kind is None or model is costs.INSTANT:
            return
        listed = 0
        if kind == costs.QUERY and model.per_service and hasattr(self.state, 'snapshot'):
            listed = len(self.state.snapshot())
        seconds = model.seconds(kind, listed)
        if seconds > 0 and not self._stopping.wait(seconds):
            self.stats.count_charge(kind, seconds)

    def hold(self, seconds: float) -> None:
        """Keep an answer back `seconds` (lose_answer's hold); returns early when the listener stops."""
        self._stopping.wait(seconds)

    def process(self, message: bytes, user: str | None) -> tuple[int, bytes, dict[str, t.Any] | None]:
        """(status, body, lost) for one authenticated SOAP message, with the faults applied.

        lost is None, or the lose_answer fault that took this answer: the request was carried out, and
        the handler loses the answer as it says (reset, hold; garble is done here: the body is garbage).
        """
        text = soap_text(message)
        action = header_value(text, 'Action')
        self.stats.count_soap(action)
        faults = self.faults.as_dict()
        if faults['http_500']:
            return 500, internal_error_fault(self.name, header_value(text, 'MessageID')), None
        self.charge(costs.classify(action, text))
        try:
            status, reply = self.state.handle(message, user)
        except Exception:  # pylint: disable=broad-exception-caught
            # A simulator bug must still reach the client as a fault, and the log says where.
            log.exception('simulated host %s failed on a request', self.name)
            return 500, internal_error_fault(self.name, header_value(text, 'MessageID')), None
        lost = None
        if faults['lose_answer'] is not None:
            lost = self.faults.take_lost_answer(_action_key(action), request_service(text))
        if lost is not None:
            self.stats.count_lost(action)
            log.debug('%s: the answer to %s is lost (%s)', self.endpoint, lost['method'], lost['how'])
            if lost['how'] == 'garble':
                return 200, GARBAGE_BODY, lost
            return status, reply, lost
        if faults['malformed'] == 'garbage':
            return 200, GARBAGE_BODY, None
        if faults['malformed'] == 'truncated':
            return 200, reply[: len(reply) // 2], None
        return status, reply, None

    def reset(self) -> None:
        """Faults cleared and counters zeroed (the host's own state is the caller's business)."""
        self.faults.clear()
        self.stats.reset()

    def stop(self) -> None:
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
