# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Leak checks of a controller run, from /proc only (Linux; no psutil).

The run's processes are found three ways, since none alone sees them all: a marker in the
environment the command starts with (every process it forks or executes inherits it, even after
it is orphaned), the parent chain from the command, and its session (the command runs with
start_new_session=True, so its session id is its pid). ansible-core 2.19's workers call setsid()
(WorkerProcess._detach), so the session alone would miss them.

While the command runs, a thread samples those processes every `interval` seconds: their number,
the open file descriptors of each, the TCP sockets they hold, and their memory (PSS from
/proc/<pid>/smaps_rollup, so pages a forked worker shares with its parent are not counted twice).
After it ends, what is left of its processes and the TCP connections to given endpoints that are
still held open on either side are read, with a short settle time for the kernel and the peer.

While a run is measured, this process is the "child subreaper" of the run's orphans (prctl): here
pid 1 reaps nobody, and a leftover killed after the check would otherwise stay a zombie for good.

Used by test_no_leaks.py; its own tests there run it against a child that leaks on purpose.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path('/proc')
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37

# /proc/net/tcp's state codes (include/net/tcp_states.h).
TCP_STATES = {
    1: 'ESTABLISHED',
    2: 'SYN_SENT',
    3: 'SYN_RECV',
    4: 'FIN_WAIT1',
    5: 'FIN_WAIT2',
    6: 'TIME_WAIT',
    7: 'CLOSE',
    8: 'CLOSE_WAIT',
    9: 'LAST_ACK',
    10: 'LISTEN',
    11: 'CLOSING',
    12: 'NEW_SYN_RECV',
}
# States in which a process still holds the socket open. After close() a socket lingers in the
# kernel alone (FIN_WAIT*, TIME_WAIT, LAST_ACK, CLOSING): no process's fd, nothing leaked.
# CLOSE_WAIT is the peer gone and this side never closing: the classic leak.
HELD_STATES = frozenset({'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'NEW_SYN_RECV', 'CLOSE_WAIT'})


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    sid: int
    state: str  # R, S, D, Z, ...
    started: int  # start time in clock ticks since boot: with the pid, names one process
    command: str  # the command line (or the name in brackets, for a zombie)

    @property
    def zombie(self):
        return self.state in ('Z', 'X')

    def __str__(self):
        return 'pid %d (parent %d, session %d, state %s): %s' % (self.pid, self.ppid, self.sid, self.state, self.command)


@dataclass(frozen=True)
class Connection:
    local: tuple  # (address, port)
    remote: tuple
    state: str
    inode: int

    def __str__(self):
        return '%s:%d -> %s:%d %s' % (self.local + self.remote + (self.state,))


def _stat(pid):
    """(ppid, state, session id, start time) of a process, or None once it is gone."""
    try:
        text = (PROC / str(pid) / 'stat').read_text(encoding='utf-8', errors='replace')
    except OSError:
        return None
    fields = text[text.rindex(')') + 2 :].split()  # after "pid (comm) ": state ppid pgrp session ... (starttime is field 22)
    return int(fields[1]), fields[0], int(fields[3]), int(fields[19])


def _command(pid):
    try:
        raw = (PROC / str(pid) / 'cmdline').read_bytes()
    except OSError:
        return '?'
    if raw:
        return raw.rstrip(b'\0').replace(b'\0', b' ').decode('utf-8', 'replace')[:300]
    try:
        return '[%s]' % (PROC / str(pid) / 'comm').read_text(encoding='utf-8').strip()
    except OSError:
        return '?'


def _has_marker(pid, marker):
    try:
        return marker in (PROC / str(pid) / 'environ').read_bytes()
    except OSError:
        return False


def all_processes():
    """{pid: (ppid, state, session id, start time)} of every process."""
    table = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            stat = _stat(entry.name)
            if stat is not None:
                table[int(entry.name)] = stat
    return table


def run_processes(leader, started, marker=None, table=None):
    """{pid: Process} of the run that `leader` (started at `started`) began: its session, its
    descendants, and every process whose environment holds `marker` (b'NAME=value'); zombies included.

    Once the leader is gone its pid may be reused, even as a new session's id (ansible's workers
    call setsid()): the session and the parent chain then count only while no other process has it.
    """
    table = all_processes() if table is None else table
    reused = leader in table and table[leader][3] != started
    found = set() if reused else {pid for pid, stat in table.items() if stat[2] == leader or pid == leader}
    if marker:
        found |= {pid for pid in table if pid not in found and _has_marker(pid, marker)}
    children = {}
    for pid, stat in table.items():
        children.setdefault(stat[0], []).append(pid)
    todo = list(found)
    while todo:  # the descendants; a tree, so this ends
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid: Process(pid, table[pid][0], table[pid][2], table[pid][1], table[pid][3], _command(pid)) for pid in found}


def fd_targets(pid):
    """{fd: what it points at} of a process ({} once it is gone or for a zombie)."""
    directory = PROC / str(pid) / 'fd'
    targets = {}
    try:
        names = os.listdir(directory)
    except OSError:
        return targets
    for name in names:
        try:
            targets[int(name)] = os.readlink(directory / name)
        except OSError:
            pass  # closed meanwhile
    return targets


def socket_inodes(targets):
    """The inodes of the sockets among fd_targets()."""
    return {int(target[8:-1]) for target in targets.values() if target.startswith('socket:[')}


def _address(text):
    """'0100007F:1F90' (or IPv6's 32 hex digits) from /proc/net/tcp* -> ('127.0.0.1', 8080)."""
    host, port = text.split(':')
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        address = socket.inet_ntop(socket.AF_INET, struct.pack('<I', struct.unpack('>I', raw)[0]))
    else:  # four 32-bit words, each in host (little-endian) order
        address = socket.inet_ntop(socket.AF_INET6, b''.join(struct.pack('<I', word) for word in struct.unpack('>4I', raw)))
        if address.startswith('::ffff:') and '.' in address:
            address = address[7:]
    return address, int(port, 16)


def tcp_connections():
    """Every TCP socket of this network namespace (/proc/net/tcp and tcp6)."""
    connections = []
    for name in ('tcp', 'tcp6'):
        try:
            lines = (PROC / 'net' / name).read_text(encoding='ascii').splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            connections.append(
                Connection(_address(fields[1]), _address(fields[2]), TCP_STATES.get(int(fields[3], 16), fields[3]), int(fields[9]))
            )
    return connections


def held_connections(endpoints):
    """TCP connections to or from any of `endpoints` ({(address, port)}) that a process still holds
    open: the client's side (remote is the endpoint) and the server's (local is the endpoint)."""
    endpoints = set(endpoints)
    return [
        c for c in tcp_connections() if c.state in HELD_STATES and (c.remote in endpoints or (c.local in endpoints and c.remote[1] != 0))
    ]


def memory_kb(pid):
    """(PSS, RSS) of a process in kB, from smaps_rollup (PSS) and status (RSS); (0, 0) once gone."""
    pss = rss = 0
    try:
        for line in (PROC / str(pid) / 'smaps_rollup').read_text(encoding='ascii').splitlines():
            if line.startswith('Pss:'):
                pss = int(line.split()[1])
                break
        for line in (PROC / str(pid) / 'status').read_text(encoding='ascii').splitlines():
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
                break
    except (OSError, ValueError):
        pass
    return pss, rss


def peak_rss_kb(pid):
    """The process's high-water mark of RSS (VmHWM), exact and not sampled; 0 once gone."""
    try:
        for line in (PROC / str(pid) / 'status').read_text(encoding='ascii').splitlines():
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Sample:
    """The run's processes at one moment."""

    at: float  # seconds since the start
    processes: int  # alive (not zombie) processes of the run
    fds: dict  # {pid: open fds}
    leader_fds: int  # open fds of the leader (the long-lived controller process, ansible-playbook)
    leader_children: int  # its alive child processes (ansible's workers)
    sockets: int  # sockets held by the run's processes
    fleet_sockets: int  # of those, TCP sockets connected to one of the endpoints
    pss_kb: int  # sum of the PSS of the run's processes
    leader_rss_kb: int


class Sampler:
    """Samples the processes of the run that `leader` (started at `started`, in clock ticks) began,
    every `interval` seconds in a thread, at most `max_samples` times. `seen` keeps every process
    met, by (pid, start time)."""

    def __init__(self, leader, started, marker=None, endpoints=(), interval=0.2, max_samples=3000):
        self.leader = leader
        self.started = started
        self.marker = marker
        self.endpoints = set(endpoints)
        self.interval = interval
        self.max_samples = max_samples
        self.samples = []
        self.seen = {}
        self.leader_peak_rss_kb = 0
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='leak-sampler-%d' % leader, daemon=True)

    def sample(self):
        processes = {pid: p for pid, p in run_processes(self.leader, self.started, self.marker).items() if not p.zombie}
        fds, inodes, pss = {}, set(), 0
        for pid, process in processes.items():
            self.seen.setdefault((pid, process.started), process)
            targets = fd_targets(pid)
            fds[pid] = len(targets)
            inodes |= socket_inodes(targets)
            pss += memory_kb(pid)[0]
        fleet = 0
        if inodes and self.endpoints:
            fleet = sum(1 for c in tcp_connections() if c.inode in inodes and (c.remote in self.endpoints or c.local in self.endpoints))
        leader_rss = memory_kb(self.leader)[1] if self.leader in processes else 0
        self.leader_peak_rss_kb = max(self.leader_peak_rss_kb, peak_rss_kb(self.leader))
        return Sample(
            round(time.monotonic() - self._started, 2),
            len(processes),
            fds,
            fds.get(self.leader, 0),
            sum(1 for p in processes.values() if p.ppid == self.leader),
            len(inodes),
            fleet,
            pss,
            leader_rss,
        )

    def _run(self):
        while not self._stop.is_set() and len(self.samples) < self.max_samples:
            self.samples.append(self.sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=10)

    def remaining(self):
        """{pid: Process} of the run still there: found now, or met before and still the same process."""
        table = all_processes()
        found = run_processes(self.leader, self.started, self.marker, table)
        for (pid, started), process in self.seen.items():
            if pid not in found and pid in table and table[pid][3] == started:
                found[pid] = Process(pid, table[pid][0], table[pid][2], table[pid][1], started, process.command)
        return found


@dataclass
class MeasuredRun:
    args: list
    rc: int  # None: killed after `timeout` seconds
    stdout: str
    stderr: str
    seconds: float
    samples: list
    leader_peak_rss_kb: int  # VmHWM of the leader, last read while it ran
    left: dict = field(default_factory=dict)  # {pid: Process} of the run alive after it ended
    zombies: dict = field(default_factory=dict)  # {pid: Process} of the run dead but never reaped
    open_connections: list = field(default_factory=list)

    def peak(self, name):
        return max((getattr(s, name) for s in self.samples), default=0)

    def peak_fds(self):
        """(pid, fds) of the process that had the most fds open at one time."""
        return max(((pid, n) for s in self.samples for pid, n in s.fds.items()), key=lambda item: item[1], default=(None, 0))

    def summary(self):
        return (
            'rc %s in %.1f s, %d samples; peak: %d processes, %d fds in the leader (%d children at once), %d in any one process, '
            '%d sockets (%d to the endpoints), PSS %.0f MB of the run, leader RSS %.0f MB (VmHWM %.0f MB); '
            'left: %d processes, %d zombies, %d open connections'
            % (
                self.rc,
                self.seconds,
                len(self.samples),
                self.peak('processes'),
                self.peak('leader_fds'),
                self.peak('leader_children'),
                self.peak_fds()[1],
                self.peak('sockets'),
                self.peak('fleet_sockets'),
                self.peak('pss_kb') / 1024,
                self.peak('leader_rss_kb') / 1024,
                self.leader_peak_rss_kb / 1024,
                len(self.left),
                len(self.zombies),
                len(self.open_connections),
            )
        )


def settle(read, seconds, interval=0.1):
    """read() until it returns something empty or `seconds` have passed; its last value."""
    deadline = time.monotonic() + seconds
    value = read()
    while value and time.monotonic() < deadline:
        time.sleep(interval)
        value = read()
    return value


def kill(processes):
    """SIGKILL each of {pid: Process} still alive and still the same process (only processes the caller started)."""
    table = all_processes()
    for pid, process in processes.items():
        if not process.zombie and pid in table and table[pid][3] == process.started and pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _child_subreaper(on):
    """Make this process the reaper of the orphans of its descendants (Linux prctl); the previous setting.

    Orphans otherwise go to pid 1, and here pid 1 does not reap them: a killed leftover would stay a zombie."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        previous = ctypes.c_int(0)
        libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(previous), 0, 0, 0)
        libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)
        return bool(previous.value)
    except (OSError, AttributeError):
        return False


def _reap(processes, seconds=5.0):
    """Collect the exit status of those of {pid: Process} that became this process's children (orphans
    of the run, given to us as their subreaper): killed or exited, they would stay zombies otherwise."""
    mine = [pid for pid, process in processes.items() if process.ppid == os.getpid()]
    deadline = time.monotonic() + seconds
    while mine and time.monotonic() < deadline:
        for pid in list(mine):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    mine.remove(pid)
            except ChildProcessError:
                mine.remove(pid)
        if mine:
            time.sleep(0.05)


def run_measured(args, endpoints=(), env=None, cwd=None, timeout=120, interval=0.2, settle_seconds=5.0):
    """Run `args` in a new session, sampled while it runs; then read what it left behind.

    Whatever is left of the run is killed afterwards (after it was recorded in `left`), so a leak
    fails the test without outliving it. endpoints: {(address, port)} whose connections count.
    """
    cwd = Path(cwd or '.')
    token = uuid.uuid4().hex
    env = dict(os.environ if env is None else env, XPGO_LEAK_CHECK_RUN=token)
    marker = b'XPGO_LEAK_CHECK_RUN=' + token.encode('ascii')
    started = time.monotonic()
    with tempfile.TemporaryFile('w+', encoding='utf-8') as out, tempfile.TemporaryFile('w+', encoding='utf-8') as err:
        was_subreaper = _child_subreaper(True)
        process = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        # Not reaped before wait(): its /proc entry is there, if only as a zombie.
        sampler = Sampler(
            process.pid, _stat(process.pid)[3], marker, endpoints, interval=interval, max_samples=int(timeout / interval) + 10
        )
        try:
            with sampler:
                try:
                    rc = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:  # ends as rc None, its output kept for the failure message
                    kill(sampler.remaining())
                    process.wait(timeout=10)
                    rc = None
            seconds = time.monotonic() - started
            # Exited children are reaped by their parent; give the last ones a moment.
            left = settle(lambda: {pid: p for pid, p in sampler.remaining().items() if not p.zombie}, settle_seconds)
            zombies = {pid: p for pid, p in sampler.remaining().items() if p.zombie}
            connections = settle(lambda: held_connections(endpoints), settle_seconds) if endpoints else []
        finally:
            remaining = sampler.remaining()
            kill(remaining)
            _reap(sampler.remaining())
            _child_subreaper(was_subreaper)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return MeasuredRun(list(args), rc, stdout, stderr, seconds, sampler.samples, sampler.leader_peak_rss_kb, left, zombies, connections)


def problems(run, leader_fds=None, process_fds=None, fleet_connections=None, pss_kb=None, leader_rss_kb=None):
    """What the run left behind or went beyond, one line each ([] when nothing): processes still
    running or never reaped, TCP connections to the endpoints still open, and, when given, the
    bounds of the leader's fds, of any one process's fds, of the run's connections to the endpoints
    at once, of the run's PSS and of the leader's peak RSS."""
    found = ['process left running: %s' % process for process in run.left.values()]
    found += ['process outlived the run, then exited unreaped (zombie): %s' % process for process in run.zombies.values()]
    found += ['TCP connection left open: %s' % connection for connection in run.open_connections]
    if run.rc is None:
        found.append('the run did not end in time and was killed')
    if leader_fds is not None and run.peak('leader_fds') > leader_fds:
        moment = max(run.samples, key=lambda sample: sample.leader_fds)
        found.append(
            'the leader had %d fds open at %.1f s (with %d children), over the bound of %d'
            % (moment.leader_fds, moment.at, moment.leader_children, leader_fds)
        )
    pid, most = run.peak_fds()
    if process_fds is not None and most > process_fds:
        found.append('pid %d had %d fds open, over the bound of %d' % (pid, most, process_fds))
    if fleet_connections is not None and run.peak('fleet_sockets') > fleet_connections:
        found.append(
            'the run held %d TCP connections to the endpoints at once, over the bound of %d'
            % (run.peak('fleet_sockets'), fleet_connections)
        )
    if pss_kb is not None and run.peak('pss_kb') > pss_kb:
        found.append("the run's processes used %d kB (PSS), over the bound of %d kB" % (run.peak('pss_kb'), pss_kb))
    if leader_rss_kb is not None and run.leader_peak_rss_kb > leader_rss_kb:
        found.append("the leader's RSS peaked at %d kB, over the bound of %d kB" % (run.leader_peak_rss_kb, leader_rss_kb))
    return found
