# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pywinrm's HTTP transport, bounded against any server.

This is private to the collection: its interface may change without notice.

pywinrm sends with ``session.send(request, timeout=read_timeout_sec)``: requests' timeout is per
socket read, so a server that trickles one byte a second holds a task for as long as it likes;
the body is read whole before anything looks at its size; redirects are followed (and the
credentials sent along); a HTTP 500 body is parsed with ElementTree before we see it. Here, each
message (with its authentication handshake) has one deadline, ``read_timeout_sec`` in total,
enforced by shutting the socket when it passes; a reply is refused as soon as it passes
MAX_REPLY_CHARS bytes; 3xx answers are errors; error bodies are checked before pywinrm parses
them. Message encryption (NTLM/Kerberos/CredSSP over http) and the 401 handling stay pywinrm's.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wsman_errors import (
    basic_encoding_error,
    compressed_reply_error,
    redirect_error,
    reply_timeout_error,
    reply_too_large_error,
)
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import MAX_REPLY_CHARS, FaultReply, raise_error_reply

try:
    import requests
    import requests.adapters
    import requests.auth
    import urllib3.connection
    import urllib3.connectionpool
    import urllib3.poolmanager
    from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
    from winrm.transport import Transport
except ImportError:  # the client reports the missing library (_wsman.HAS_WINRM)
    HAS_WINRM = False
    Transport = object  # type: ignore[misc,assignment]
    _CONNECTIONS: t.Tuple[type, type] = (object, object)
    _POOLS: t.Tuple[type, type] = (object, object)
    _ADAPTER: type = object
    _AUTH: type = object
else:
    HAS_WINRM = True
    _CONNECTIONS = (urllib3.connection.HTTPConnection, urllib3.connection.HTTPSConnection)
    _POOLS = (urllib3.connectionpool.HTTPConnectionPool, urllib3.connectionpool.HTTPSConnectionPool)
    _ADAPTER = requests.adapters.HTTPAdapter
    _AUTH = requests.auth.AuthBase

_CHUNK = 64 * 1024
# What Windows' WinRM service decodes Basic credentials with: the host's ANSI code page, not UTF-8.
# Windows-1252 is that code page on English and Western European installs (see basic_credentials()).
BASIC_ENCODING = 'cp1252'

_state = threading.local()


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSLSocket (whose own would drop its TLS state under a
    # reading thread): the blocked read returns at once, whatever it was waiting for.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class Deadline:
    """One message's time budget: when it passes, the sockets of the exchange are shut."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._end = time.monotonic() + seconds
        self._sockets: t.List[socket.socket] = []
        self._done = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        """Seconds left (a little more than none, as requests reads 0 as "do not wait")."""
        return max(self._end - time.monotonic(), 0.01)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._done:
                return
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> 'Deadline':
        _state.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        with self._lock:
            self._done = True
            self._sockets = []
        self._timer.cancel()
        _state.deadline = None


def _watch(sock: t.Optional[socket.socket]) -> None:
    deadline = getattr(_state, 'deadline', None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _Watched:
    """A urllib3 connection whose socket the current Deadline may shut (from the TCP connect on)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        _watch(getattr(self, 'sock', None))  # a kept-alive connection: its socket exists already
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, _CONNECTIONS[0]):  # type: ignore[misc,valid-type]
    pass


class _WatchedHTTPSConnection(_Watched, _CONNECTIONS[1]):  # type: ignore[misc,valid-type]
    pass


class _WatchedHTTPPool(_POOLS[0]):  # type: ignore[misc,valid-type]
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_POOLS[1]):  # type: ignore[misc,valid-type]
    ConnectionCls = _WatchedHTTPSConnection


_POOL_CLASSES = {'http': _WatchedHTTPPool, 'https': _WatchedHTTPSPool}


def _read_body(response: t.Any, limit: int, endpoint: str, settings: t.Any = None) -> None:
    """Read the body now, refusing it as soon as it passes ``limit`` bytes; requests' content then holds it.

    A 401 with a Content-Length within the limit stays unread: the auth libraries read it themselves
    (its size is known), and they take the server's certificate for channel binding (CBT) from its
    still open socket. Windows answers 401 with Content-Length: 0.
    """
    length = (response.headers.get('Content-Length') or '').strip()
    encoding = (response.headers.get('Content-Encoding') or 'identity').strip().lower()
    if length.isdigit() and int(length) > limit:
        response.close()
        raise reply_too_large_error(endpoint, limit, settings)
    if response.status_code == 401 and length.isdigit() and encoding == 'identity':
        return
    if encoding != 'identity':
        # We ask for identity; a compressed body could expand far beyond what came over the wire.
        response.close()
        raise compressed_reply_error(endpoint, encoding, settings)
    chunks = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            response.close()
            raise reply_too_large_error(endpoint, limit, settings)
        chunks.append(chunk)
    # What requests itself caches after reading: auth hooks and pywinrm's decryption use .content.
    response._content = b''.join(chunks)  # pylint: disable=protected-access


class _BoundedAdapter(_ADAPTER):
    """Sends within the current Deadline and reads every body bounded, also inside auth handshakes.

    Auth libraries (requests_ntlm, requests_kerberos, requests_credssp) send their handshake
    rounds through the adapter too, so no body on this session is ever read unbounded.
    """

    def __init__(self, limit: int, endpoint: str, settings: t.Any = None) -> None:
        self.limit = limit
        self.endpoint = endpoint
        self.settings = settings  # for hints that name this host's connection settings
        super().__init__()

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:  # not SOCKS
            manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager

    def send(
        self, request: t.Any, stream: bool = False, timeout: t.Any = None, verify: t.Any = True, cert: t.Any = None, proxies: t.Any = None
    ) -> t.Any:
        deadline = getattr(_state, 'deadline', None)
        if deadline is not None:
            timeout = deadline.remaining()
        response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        _read_body(response, self.limit, self.endpoint, self.settings)
        return response


def basic_credentials(username: t.Optional[str], password: t.Optional[str], settings: t.Any = None) -> bytes:
    """``user:password`` as Windows' WinRM service decodes Basic credentials, or XProtectError(INVALID).

    requests encodes Basic credentials as latin-1 and fails with a UnicodeEncodeError outside it
    (ansible/ansible#21183: 'latin-1' codec can't encode characters). Windows does not decode them
    as UTF-8 (RFC 7617's charset) but in the host's ANSI code page: Windows' own client
    (Enter-PSSession) sends them in it, and a UTF-8 client fails against the same host
    (chef/knife-windows#424: cp1251 on a Russian host; IIS's engine handles AUTH_USER/LOGON_USER in
    the ANSI code page too). The controller cannot know a host's code page: we send Windows-1252, the
    code page of English and Western European installs (a superset of latin-1's printable
    characters, so what worked before still works), and refuse before sending what it cannot carry.
    NTLM carries any character (as UTF-16; ansible/ansible#69828).
    """
    try:
        user = (username or '').encode(BASIC_ENCODING)
    except UnicodeEncodeError:
        raise basic_encoding_error('user name', settings) from None
    try:
        secret = (password or '').encode(BASIC_ENCODING)
    except UnicodeEncodeError:
        raise basic_encoding_error('password', settings) from None
    return user + b':' + secret


class _BasicAuth(_AUTH):
    """HTTP Basic with the credentials encoded as basic_credentials() says."""

    def __init__(self, username: t.Optional[str], password: t.Optional[str]) -> None:
        self._value = 'Basic ' + base64.b64encode(basic_credentials(username, password)).decode('ascii')

    def __call__(self, request: t.Any) -> t.Any:
        request.headers['Authorization'] = self._value
        return request


def _uses_basic(transport: t.Any) -> bool:
    method = transport.auth_method
    return method in ('basic', 'plaintext') or (method == 'ssl' and not (transport.cert_pem or transport.cert_key_pem))


class BoundedTransport(Transport):
    """pywinrm's Transport with one deadline per message, bounded replies, no redirects."""

    max_reply_bytes = MAX_REPLY_CHARS
    settings: t.Any = None  # the ConnectionSettings, for hints that name the host's settings

    def build_session(self) -> t.Any:
        session = super().build_session()
        self._harden(session)
        return session

    def setup_encryption(self, session: t.Any) -> None:
        # pywinrm calls this from build_session() and sends the first (handshake) request in it.
        self._harden(session)
        super().setup_encryption(session)

    def _harden(self, session: t.Any) -> None:
        if isinstance(session.get_adapter(self.endpoint), _BoundedAdapter):
            return
        adapter = _BoundedAdapter(self.max_reply_bytes, self.endpoint, self.settings)
        session.mount('https://', adapter)
        session.mount('http://', adapter)
        session.headers['Accept-Encoding'] = 'identity'
        if _uses_basic(self):
            session.auth = _BasicAuth(self.username, self.password)

    def send_message(self, message: t.Union[str, bytes]) -> bytes:
        with Deadline(t.cast(float, self.read_timeout_sec)) as deadline:
            try:
                return super().send_message(message)
            except (FaultReply, InvalidCredentialsError, WinRMTransportError):
                raise  # a complete answer: the connection stays usable
            except Exception as exc:
                # Nothing is known of the connection's state: start over next time (new session, new handshake).
                self.close_session()
                self.encryption = None
                if isinstance(exc, (XProtectError, requests.exceptions.ConnectTimeout)):
                    raise  # refused by us, or the connection never came: say so, not "no answer"
                if deadline.expired or isinstance(exc, requests.exceptions.ReadTimeout):
                    raise reply_timeout_error(self.endpoint, self.read_timeout_sec, self.settings) from None
                raise

    def _send_message_request(self, session: t.Any, prepared_request: t.Any) -> t.Any:
        response = session.send(prepared_request, timeout=self.read_timeout_sec, allow_redirects=False)
        status = response.status_code
        if 300 <= status < 400:
            raise redirect_error(self.endpoint, status, response.headers.get('Location'), self.password, self.username, self.settings)
        if status == 401:
            raise InvalidCredentialsError('the specified credentials were rejected by the server')
        if status >= 400:
            body = self._get_message_response_text(response) if response.content else b''
            # A SOAP fault becomes FaultReply here, a DTD is refused: pywinrm's own parser never sees either.
            raise_error_reply(body)
            raise WinRMTransportError('http', status, '')
        return response


def bound(protocol: t.Any, max_reply_bytes: int = MAX_REPLY_CHARS, settings: t.Any = None) -> t.Any:
    """Make a ``winrm.protocol.Protocol`` send through BoundedTransport; returns the protocol.

    pywinrm builds its Transport inside Protocol() from the options it validated; the instance is
    kept (with all its settings) and only its class changes. Basic credentials Windows cannot
    decode are refused here, before anything is sent.
    """
    transport = protocol.transport
    if _uses_basic(transport):
        basic_credentials(transport.username, transport.password, settings)
    transport.__class__ = BoundedTransport
    transport.settings = settings
    transport.max_reply_bytes = max_reply_bytes
    return protocol
