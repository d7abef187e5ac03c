# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON control endpoint of a fleet (127.0.0.1, ephemeral port), and a small client for it.

Every request carries the fleet's control token, made at start (secrets.token_urlsafe) and given on
the READY line, in the state file (control_token) and as fleet.control_token:
  Authorization: Bearer <token>
Without it (or with another) the answer is 401 {"error": ...}. ControlClient sends it: pass
token=..., or let it find the token of a fleet started in the same process.

Routes (h = host name, Name = service name, URL-encoded):
  GET    /hosts                       -> [{"name", "address", "port", "scheme", "endpoint", "profile"}]
  GET    /hosts/h                     -> that host's entry
  GET    /hosts/h/services            -> snapshot()
  POST   /hosts/h/services/Name       body = configure() keyword arguments -> that service's new snapshot (null once removed)
  GET    /hosts/h/history             -> history
  GET    /hosts/h/stats               -> {"http_requests", "http_responses", "soap_requests", "by_action", "delayed_answers",
                                          "delayed_seconds", "lost_answers"}
  POST   /hosts/h/stats/reset         -> the zeroed stats
  GET    /hosts/h/faults              -> the faults
  POST   /hosts/h/faults              body = any subset of the faults -> all faults
  DELETE /hosts/h/faults              -> all faults, cleared
  POST   /hosts/h/reset               -> profile state, no faults, zeroed stats; returns snapshot()
  GET    /hosts/h/enumerations        -> {"open": valid enumeration contexts, "timeout": their lifetime in s}
  POST   /hosts/h/enumerations/expire -> {"expired": n}: every open context becomes invalid at once
  GET    /hosts/h/events              -> the System log's records (Win32_NTLogEvent properties), oldest first
  GET    /hosts/h/rights              -> {"event_log_readers": bool}: may the accounts read the System log
  POST   /hosts/h/rights              body = {"event_log_readers": false} -> the rights (false: not in Event Log Readers)
  GET    /hosts/h/accounts            -> [{"name", "upn", "logon_right", "has_password"}] (never a password)
  POST   /hosts/h/accounts            body = {"name", "password", "upn", "logon_right"} -> the accounts, that one added
The faults include enumeration_timeout (seconds, default 240 like WinRM's EnumerationTimeoutms;
0 makes every context expire at once) and lose_answer ({"method", "how": reset|hold|garble, "times",
"hold_seconds", "service"}: the request is carried out, then its answer is lost; see faults.py).
Errors are {"error": "..."} (one line) with 400 (bad body or value), 401 (no or wrong token), 404
(unknown route, host or service), 405 (method not allowed) or 500 (a simulator bug). A request that
stalls for REQUEST_TIMEOUT seconds while sending its headers or body is dropped without an answer.
"""

from __future__ import annotations

import hmac
import http.server
import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from typing import Any, Optional, cast
from urllib.parse import unquote, urlsplit

from .listener import require_loopback

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
REQUEST_TIMEOUT = 10.0
TOKEN_HEADER = 'Authorization'
TOKEN_SCHEME = 'Bearer'

# Tokens of the control endpoints served by this process, by origin (scheme://host:port), so that a
# ControlClient made without a token still authenticates to a fleet started in the same process.
_TOKENS: dict[str, str] = {}
_TOKENS_LOCK = threading.Lock()


def _origin(url):
    parts = urlsplit(url)
    return '%s://%s' % (parts.scheme, parts.netloc)


def known_token(url: str) -> Optional[str]:
    """The token of the control endpoint serving url, if this process serves it; else None."""
    with _TOKENS_LOCK:
        return _TOKENS.get(_origin(url))


class ControlError(Exception):
    """A control request answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__('control endpoint answered %d: %s' % (status, message))
        self.status = status
        self.message = message


class _RouteError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _host_route(fleet, method, name, rest, body):
    try:
        running = fleet.host(name)
    except KeyError:
        raise _RouteError(404, 'no host named %r' % name) from None
    routes = {
        ('GET', ()): running.as_dict,
        ('GET', ('enumerations',)): running.state.enumerations,
        ('POST', ('enumerations', 'expire')): lambda: {'expired': running.state.expire_enumerations()},
        ('GET', ('services',)): running.state.snapshot,
        ('GET', ('history',)): lambda: running.state.history,
        ('GET', ('stats',)): running.stats.as_dict,
        ('POST', ('stats', 'reset')): lambda: (running.stats.reset(), running.stats.as_dict())[1],
        ('GET', ('faults',)): running.faults.as_dict,
        ('POST', ('faults',)): lambda: running.faults.update(**_object(body)),
        ('DELETE', ('faults',)): running.faults.clear,
        ('POST', ('reset',)): lambda: (running.reset(), running.state.snapshot())[1],
        ('GET', ('events',)): lambda: running.state.events,
        ('GET', ('rights',)): running.state.rights,
        ('POST', ('rights',)): lambda: _checked(running.state.rights, _object(body)),
        ('GET', ('accounts',)): running.state.accounts,
        ('POST', ('accounts',)): lambda: _checked(running.state.accounts, {'add': _object(body)}),
    }
    if len(rest) == 2 and rest[0] == 'services':
        routes[('POST', tuple(rest))] = lambda: _configure(running.state, rest[1], _object(body))
    route = routes.get((method, tuple(rest)))
    if route is None:
        if any(key[1] == tuple(rest) for key in routes):
            raise _RouteError(405, 'method %s not allowed on this route' % method)
        raise _RouteError(404, 'no route %s /hosts/%s/%s' % (method, name, '/'.join(rest)))
    return route()


def _object(body):
    if not isinstance(body, dict):
        raise _RouteError(400, 'the request body must be a JSON object')
    return body


def _checked(method, arguments):
    """method(**arguments), a bad argument or value answered with 400."""
    try:
        return method(**arguments)
    except (TypeError, ValueError) as error:
        raise _RouteError(400, str(error)) from None


def _configure(state, service, changes):
    if not changes.get('add') and service.lower() not in {name.lower() for name in state.snapshot()}:
        raise _RouteError(404, 'no service %r on this host' % service)
    try:
        return state.configure(service, **changes)
    except (TypeError, ValueError) as error:
        raise _RouteError(400, str(error)) from None


def dispatch(fleet: Any, method: str, path: str, body: Any) -> Any:
    """JSON-able answer for one control request; raises _RouteError."""
    parts = [unquote(part) for part in urlsplit(path).path.strip('/').split('/') if part]
    if parts == ['hosts']:
        if method != 'GET':
            raise _RouteError(405, 'method %s not allowed on /hosts' % method)
        return [running.as_dict() for running in fleet.hosts]
    if len(parts) >= 2 and parts[0] == 'hosts':
        try:
            return _host_route(fleet, method, parts[1], parts[2:], body)
        except ValueError as error:
            raise _RouteError(400, str(error)) from None
    raise _RouteError(404, 'no route %s %s' % (method, path))


def _one_line(error):
    return ' '.join(str(error).split()) or error.__class__.__name__


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    server_version = 'xpgo-simulator-control'

    def setup(self):
        self.timeout = cast(_ControlHTTPServer, self.server).request_timeout  # type: ignore[misc]
        super().setup()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log.debug('control %s', format % args)

    def _send(self, status, payload, headers=()):
        data = json.dumps(payload, indent=None, sort_keys=True, default=str).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _read(self):
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise _RouteError(400, 'bad Content-Length')
        raw = self.rfile.read(length) if length else b''
        if len(raw) != length:
            raise ConnectionError('the client sent %d of %d body bytes' % (len(raw), length))
        return raw

    def _authorized(self):
        scheme, _sep, token = self.headers.get(TOKEN_HEADER, '').strip().partition(' ')
        return scheme.lower() == TOKEN_SCHEME.lower() and hmac.compare_digest(
            token.strip().encode(), cast(_ControlHTTPServer, self.server).token.encode()
        )

    def _handle(self):
        try:
            raw = self._read()
            if not self._authorized():
                self._send(
                    401,
                    {'error': 'the control endpoint needs its token: "%s: %s <token>"' % (TOKEN_HEADER, TOKEN_SCHEME)},
                    [('WWW-Authenticate', '%s realm="xprotect-go-simulator"' % TOKEN_SCHEME)],
                )
                return
            self._send(200, dispatch(cast(_ControlHTTPServer, self.server).fleet, self.command, self.path, _parse(raw)))
        except _RouteError as error:
            self._send(error.status, {'error': _one_line(error)})
        except (TimeoutError, ConnectionError) as error:
            log.debug('control request dropped: %s', error)
            self.close_connection = True
        except ValueError as error:
            self._send(400, {'error': _one_line(error)})
        except Exception as error:  # pylint: disable=broad-exception-caught
            log.debug('control request failed', exc_info=True)
            self._send(500, {'error': 'the simulator failed on this request: %s' % _one_line(error)})

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle


def _parse(raw):
    """The JSON body ({} when empty); _RouteError 400 for anything that is not JSON, nested too deep included."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise _RouteError(400, 'the request body is not JSON: %s' % _one_line(error)) from None


class _ControlHTTPServer(http.server.ThreadingHTTPServer):
    # Non-daemon request threads are joined by server_close(): stop() leaves no thread behind.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address, fleet, token, request_timeout):
        self.fleet = fleet
        self.token = token
        self.request_timeout = request_timeout
        super().__init__(address, _ControlHandler)

    def handle_error(self, request, client_address):
        # Never a traceback on stderr: what a client sends cannot make the simulator print one.
        log.debug('control connection from %s failed', client_address, exc_info=True)


class ControlServer:
    """The control endpoint of one fleet: bound on creation, serving after start()."""

    def __init__(
        self, fleet: Any, address: str = '127.0.0.1', port: int = 0, token: Optional[str] = None, request_timeout: float = REQUEST_TIMEOUT
    ) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self._server = _ControlHTTPServer((require_loopback(address), port), fleet, self.token, float(request_timeout))
        self.url = 'http://%s:%d' % cast('tuple[str, int]', self._server.server_address[:2])
        self._thread: Optional[threading.Thread] = None
        with _TOKENS_LOCK:
            _TOKENS[_origin(self.url)] = self.token

    def start(self) -> ControlServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={'poll_interval': 0.1}, name='xpgo-sim-control', daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        with _TOKENS_LOCK:
            if _TOKENS.get(_origin(self.url)) == self.token:
                del _TOKENS[_origin(self.url)]


class ControlClient:
    """Tiny JSON client: get/post/delete take an absolute URL or a path under base_url.

    token: the control endpoint's token; None takes the token of the fleet serving the URL when it
    runs in this process (a fleet started elsewhere gives its token on its READY line).
    """

    def __init__(self, base_url: str = '', timeout: float = 10.0, token: Optional[str] = None) -> None:
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout
        self.token = token
        # No proxies: the control endpoint is always on loopback.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def url(self, path: str) -> str:
        if '://' in path:
            return path
        return '%s/%s' % (self.base_url, path.lstrip('/'))

    def request(self, method: str, path: str, body: Any = None) -> Any:
        url = self.url(path)
        data = None if body is None else json.dumps(body).encode('utf-8')
        headers = {'Content-Type': 'application/json'}
        token = self.token or known_token(url)
        if token:
            headers[TOKEN_HEADER] = '%s %s' % (TOKEN_SCHEME, token)
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b'null')
        except urllib.error.HTTPError as error:
            text = error.read().decode('utf-8', errors='replace')
            try:
                message = json.loads(text).get('error', text)
            except (ValueError, AttributeError):
                message = text
            raise ControlError(error.code, message) from None

    def get(self, path: str) -> Any:
        return self.request('GET', path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request('POST', path, {} if body is None else body)

    def delete(self, path: str) -> Any:
        return self.request('DELETE', path)
