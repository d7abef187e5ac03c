# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the tests under tests/functional/reliability: plain functions, classes and constants (conftest.py holds only
fixtures and hooks; tests import these from here)."""

from __future__ import annotations

import itertools
import re
import subprocess
import textwrap
import threading
from pathlib import Path

import yaml

from tests.helpers import (
    REPO_ROOT,
    PlaybookRun,
    TaskResult,
    _collect_results,
    _parse_stdout,
    ansible_bin_dir,
    ansible_environment,
    tasks_by_way,
    XPROTECT_NAMES,
)
from xprotect_go_simulator.profiles import PROFILES


RECORDING_SERVER = 'Milestone XProtect Recording Server'


# Quick services: a restart takes well under a second.
QUICK = {'start_seconds': 0.1, 'stop_seconds': 0.05}


# ansible-playbook exit codes.
RC_FAILED, RC_UNREACHABLE = 2, 4


def quick_overrides(profiles, extra=None):
    """Fleet overrides_per_host with quick XProtect services, plus {host index: {service: settings}}."""
    overrides = []
    for index, profile in enumerate(profiles):
        installed = {service['Name'] for service in PROFILES[profile].services}
        host = {name: dict(QUICK) for name in XPROTECT_NAMES if name in installed}
        for name, settings in ((extra or {}).get(index) or {}).items():
            host.setdefault(name, {}).update(settings)
        overrides.append(host)
    return overrides


def write_yaml(path, data):
    path = Path(path)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding='utf-8')
    return path


def play(tasks, hosts='xprotect', way='inventory', **keywords):
    """One play (a dict), its tasks reaching the hosts one of the WAYS_IN (tests/conftest.py)."""
    tasks = tasks_by_way(yaml.safe_load(textwrap.dedent(tasks)) if isinstance(tasks, str) else tasks, way)
    return dict({'name': 'reliability', 'hosts': hosts, 'gather_facts': False}, **keywords, tasks=tasks)


def environment(tmp_path):
    """ansible-playbook's environment (tests/conftest.py's, usable at module scope)."""
    return ansible_environment(tmp_path)


class Runner:
    """ansible-playbook runs in one directory; results parsed as tests/conftest.py's run_playbook does."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self._counter = itertools.count()

    def __call__(self, plays, inventory, *extra_args, env=None, timeout=300, junit=True):
        """plays: a list of plays (written to a file here), or a playbook path relative to the repository root.

        junit=False leaves the junit report out (results then hold only the fatal lines of stdout).
        """
        number = next(self._counter)
        if isinstance(plays, (str, Path)):
            playbook = REPO_ROOT / plays
        else:
            playbook = write_yaml(self.directory / ('playbook-%d.yml' % number), plays)
        report_dir = self.directory / ('junit-%d' % number)
        run_env = environment(self.directory)
        if junit:
            run_env.update(
                {
                    'ANSIBLE_CALLBACKS_ENABLED': 'ansible.builtin.junit',
                    'JUNIT_OUTPUT_DIR': str(report_dir),
                    'JUNIT_HIDE_TASK_ARGUMENTS': 'True',
                }
            )
        run_env.update(env or {})
        args = [str(ansible_bin_dir() / 'ansible-playbook'), '-i', str(inventory), str(playbook)] + [str(arg) for arg in extra_args]
        completed = subprocess.run(args, env=run_env, cwd=self.directory, capture_output=True, text=True, timeout=timeout, check=False)
        results, recap = _collect_results(report_dir, completed.stdout)
        return PlaybookRun(args, completed.returncode, completed.stdout, completed.stderr, results, recap)


def failure(run, host, task=None):
    """The one failed or unreachable result of host, as the stdout's fatal line shows it.

    Delegated tasks print "fatal: [host -> localhost]", which junit does not record under the host.
    """
    fatal, dummy = _parse_stdout(run.stdout)
    found = [
        TaskResult(where.split(' ')[0], play_name, name, kind, result)
        for (name, where), (play_name, kind, result) in fatal.items()
        if where.split(' ')[0] == host and task in (None, name)
    ]
    assert len(found) == 1, 'expected one failure of %s (task %s), found %d:\n%s' % (host, task, len(found), run.stdout)
    return found[0]


def without_inventory(text):
    """A hint as a task without an inventory host sees it: 'host (ansible_host)' -> 'host', 'x (ansible_y: v)' -> 'x'.

    The shipped module (the -module way) gets the host's settings as task options, so it sees them so too.
    """
    return re.sub(r' \(ansible_\w+(: \w+)?\)', '', text)


def one_clear_line(message, *fragments):
    """A failure message is one line, names what it is about, and holds every fragment."""
    assert isinstance(message, str) and message, message
    assert '\n' not in message and 'Traceback' not in message, message
    for fragment in fragments:
        assert fragment in message, 'missing %r in: %s' % (fragment, message)
    return message


# A rolling restart of four hosts, two a batch, at most two Recording Servers down, half a batch may fail:
# a host of the first batch whose Recording Server may be down counts against the limit, so the second
# batch would make three down and must be refused before anything in it is restarted.
TWO_PER_BATCH = (
    '-e',
    'rolling_restart_serial=2',
    '-e',
    'rolling_restart_settle_seconds=0',
    '-e',
    'rolling_restart_max_recording_servers_down=2',
    '-e',
    'rolling_restart_max_fail_percentage=50',
)


def assert_next_batch_refused(run, third, lost):
    """The second batch (third's) was refused, naming the host of the first batch that counts as down."""
    refused = failure(run, third.name)
    one_clear_line(refused.result['msg'], 'This batch holds 2 hosts', '1 hosts of earlier batches failed their restart (%s)' % lost.name)


class Trigger:
    """Calls action() once a service of a simulated host has entered a state (watches its history).

    For faults that must start mid-operation: a connection reset after the restart began, a crash
    that must come only after the restart (a crash configured on a running service happens at once).
    """

    def __init__(self, running, service, state, action, interval=0.01):
        self.running = running
        self.service = service
        self.state = state
        self.action = action
        self.interval = interval
        self.fired = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name='trigger-%s' % running.name, daemon=True)

    def _watch(self):
        while not self._stop.is_set():
            if any(e['service'] == self.service and e['state'] == self.state for e in self.running.state.history):
                self.action()
                self.fired.set()
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
