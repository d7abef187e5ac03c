# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One thread that accepts the connections of many listeners, and socket helpers."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import struct
import threading
from typing import Any, Callable, cast

log = logging.getLogger(__name__)


class Acceptor:
    """One thread that accepts connections for many listeners (a fleet of 200 needs one, not 200)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._tasks: list[Callable[[], None]] = []
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

    def add(self, sock: socket.socket, on_accept: Callable[..., Any]) -> None:
        sock.setblocking(False)
        self._call(lambda: self._selector.register(sock, selectors.EVENT_READ, on_accept))

    def remove(self, sock: socket.socket) -> None:
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
                    connection, address = cast(socket.socket, key.fileobj).accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as error:
                    log.debug('accept failed: %s', error)
                    continue
                key.data(connection, address)

    def close(self) -> None:
        def stop() -> None:
            self._running = False

        if self._thread.is_alive():
            self._call(stop)
            self._thread.join()
        with self._tasks_lock:
            self._running = False
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()


class Connection:
    """One accepted TCP connection; `sock` becomes the TLS socket once the handshake is done."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def abort(self) -> None:
        # socket.socket.shutdown, not SSLSocket.shutdown: that one drops its TLS state under the
        # handler thread's feet.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


def reset_socket(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
