# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""JSON control endpoint of a fleet (127.0.0.1, ephemeral port), and a small client for it.

Routes (h = host name, Name = service name, URL-encoded):
  GET    /hosts                       -> [{"name", "address", "port", "scheme", "endpoint", "profile"}]
  GET    /hosts/h                     -> that host's entry
  GET    /hosts/h/services            -> snapshot()
  POST   /hosts/h/services/Name       body = configure() keyword arguments -> that service's new snapshot (null once removed)
  GET    /hosts/h/history             -> history
  GET    /hosts/h/stats               -> {"http_requests", "soap_requests", "by_action"}
  POST   /hosts/h/stats/reset         -> the zeroed stats
  GET    /hosts/h/faults              -> the faults
  POST   /hosts/h/faults              body = any subset of the faults -> all faults
  DELETE /hosts/h/faults              -> all faults, cleared
  POST   /hosts/h/reset               -> profile state, no faults, zeroed stats; returns snapshot()
Errors are {"error": "..."} with 400 (bad body or value), 404 (unknown route, host or service)
or 405 (method not allowed).
"""

import http.server
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

from .listener import require_loopback

MAX_BODY = 1024 * 1024


class ControlError(Exception):
    """A control request answered with an error status."""

    def __init__(self, status, message):
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
        ('GET', ('services',)): running.state.snapshot,
        ('GET', ('history',)): lambda: running.state.history,
        ('GET', ('stats',)): running.stats.as_dict,
        ('POST', ('stats', 'reset')): lambda: (running.stats.reset(), running.stats.as_dict())[1],
        ('GET', ('faults',)): running.faults.as_dict,
        ('POST', ('faults',)): lambda: running.faults.update(**_object(body)),
        ('DELETE', ('faults',)): running.faults.clear,
        ('POST', ('reset',)): lambda: (running.reset(), running.state.snapshot())[1],
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


def _configure(state, service, changes):
    if not changes.get('add') and service.lower() not in {name.lower() for name in state.snapshot()}:
        raise _RouteError(404, 'no service %r on this host' % service)
    try:
        return state.configure(service, **changes)
    except (TypeError, ValueError) as error:
        raise _RouteError(400, str(error)) from None


def dispatch(fleet, method, path, body):
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


class _ControlHandler(http.server.BaseHTTPRequestHandler):
    server_version = 'xpgo-simulator-control'
    timeout = 30

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _send(self, status, payload):
        data = json.dumps(payload, indent=None, sort_keys=True, default=str).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        try:
            length = int(self.headers.get('Content-Length') or 0)
            if not 0 <= length <= MAX_BODY:
                raise _RouteError(400, 'bad Content-Length')
            raw = self.rfile.read(length) if length else b''
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as error:
                raise _RouteError(400, 'the request body is not JSON: %s' % error) from None
            self._send(200, dispatch(self.server.fleet, self.command, self.path, body))
        except _RouteError as error:
            self._send(error.status, {'error': str(error)})
        except ValueError as error:
            self._send(400, {'error': str(error)})

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _handle


class _ControlHTTPServer(http.server.ThreadingHTTPServer):
    # Non-daemon request threads are joined by server_close(): stop() leaves no thread behind.
    daemon_threads = False
    block_on_close = True

    def __init__(self, address, fleet):
        self.fleet = fleet
        super().__init__(address, _ControlHandler)


class ControlServer:
    """The control endpoint of one fleet: bound on creation, serving after start()."""

    def __init__(self, fleet, address='127.0.0.1', port=0):
        self._server = _ControlHTTPServer((require_loopback(address), port), fleet)
        self.url = 'http://%s:%d' % self._server.server_address[:2]
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.1},
                                        name='xpgo-sim-control', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


class ControlClient:
    """Tiny JSON client: get/post/delete take an absolute URL or a path under base_url."""

    def __init__(self, base_url='', timeout=10.0):
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout
        # No proxies: the control endpoint is always on loopback.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def url(self, path):
        if '://' in path:
            return path
        return '%s/%s' % (self.base_url, path.lstrip('/'))

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(self.url(path), data=data, method=method, headers={'Content-Type': 'application/json'})
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

    def get(self, path):
        return self.request('GET', path)

    def post(self, path, body=None):
        return self.request('POST', path, {} if body is None else body)

    def delete(self, path):
        return self.request('DELETE', path)
