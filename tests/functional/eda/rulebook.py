# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run the collection's rulebook with the real ansible-rulebook, as an operator would (tests and bench/run share this).

  problem = engine_problem(eda_bin)           None, or what is missing and the command that installs it
  with RulebookRun(eda_bin, workdir, inventory, variables) as run:
      run.wait_for(lambda text: ..., timeout)  the output so far, once the predicate holds
      run.wait(timeout)                        its exit code; it must end by itself (a rule or the source)

The run is `ansible-rulebook -r xprotect.go.keep_recording -i INVENTORY` with ANSIBLE_INVENTORY=INVENTORY,
ansible-galaxy and ansible-playbook from eda_bin on PATH, and ANSIBLE_COLLECTIONS_PATH pointing at this
checkout's collection link. TMPDIR is a fresh directory of its own (workdir/tmp), so that what a run leaves
behind can be seen. It is never ended by a signal, except to clean up after a failed test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import yaml

from tests.helpers import ISOLATED_ANSIBLE, REPO_ROOT

RULEBOOK = 'xprotect.go.keep_recording'
JAVA_INSTALL = 'apt-get install -y openjdk-17-jre-headless'


def eda_bin_dir():
    """Where ansible-rulebook is: $XPGO_EDA_BIN (the Makefile sets it), else the checkout's .venv-eda."""
    return Path(os.environ.get('XPGO_EDA_BIN') or REPO_ROOT / '.venv-eda' / 'bin')


def java_found():
    home = os.environ.get('JAVA_HOME')
    return bool(shutil.which('java') or (home and os.access(os.path.join(home, 'bin', 'java'), os.X_OK)))


def engine_problem(eda_bin):
    """What keeps ansible-rulebook from running here, with the command that fixes it; None when nothing does."""
    problems = []
    if not (Path(eda_bin) / 'ansible-rulebook').exists():
        problems.append(
            'ansible-rulebook is not installed in %s (make .venv-eda/.requirements.stamp, from scripts/requirements-eda.txt)' % eda_bin
        )
    if not java_found():
        problems.append('its rules engine needs Java 17: %s' % JAVA_INSTALL)
    return '; '.join(problems) or None


class RulebookRun:
    """One ansible-rulebook process on the collection's rulebook, its output collected line by line with times."""

    def __init__(self, eda_bin, workdir, inventory, variables, print_events=False):
        self.eda_bin = Path(eda_bin)
        self.workdir = Path(workdir)
        self.tmpdir = self.workdir / 'tmp'
        self.inventory = str(inventory)
        self.variables = variables
        self.print_events = print_events
        self.lines = []  # (seconds since start, line)
        self.process = None
        self.started = None
        self._reader = None
        self._lock = threading.Lock()

    def environment(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
        env.update(ISOLATED_ANSIBLE)
        env.update(
            {
                'ANSIBLE_INVENTORY': self.inventory,
                # Outside TMPDIR: ansible-playbook keeps its (emptied) base directory.
                'ANSIBLE_LOCAL_TEMP': str(self.workdir / 'ansible-local'),
                'ANSIBLE_PYTHON_INTERPRETER': str(self.eda_bin / 'python'),
                'TMPDIR': str(self.tmpdir),
                'PATH': os.pathsep.join([str(self.eda_bin), env.get('PATH', '')]),
            }
        )
        return env

    def start(self):
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        variables = self.workdir / 'rulebook-vars.yml'
        variables.write_text(yaml.safe_dump(self.variables))
        args = [str(self.eda_bin / 'ansible-rulebook'), '-r', RULEBOOK, '-i', self.inventory, '-e', str(variables), '-v']
        args += ['--print-events'] if self.print_events else []
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            args,
            env=self.environment(),
            cwd=str(self.workdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors='replace',
        )
        self._reader = threading.Thread(target=self._read, name='rulebook-output', daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self.process.stdout:
            with self._lock:
                self.lines.append((time.monotonic() - self.started, line.rstrip('\n')))

    @property
    def pid(self):
        return self.process.pid

    @property
    def output(self):
        with self._lock:
            return '\n'.join(line for _seconds, line in self.lines)

    def timed_output(self):
        with self._lock:
            return '\n'.join('%7.2f %s' % item for item in self.lines)

    def wait_for(self, predicate, timeout, what='the expected output'):
        """The output once predicate(output) holds; AssertionError (with the output) after timeout or if the run ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output
            if predicate(text):
                return text
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                if predicate(self.output):
                    return self.output
                raise AssertionError('ansible-rulebook ended (rc %s) before %s:\n%s' % (self.process.returncode, what, self.timed_output()))
            time.sleep(0.1)
        raise AssertionError('no %s within %s s:\n%s' % (what, timeout, self.timed_output()))

    def wait(self, timeout):
        """The exit code; the run must end by itself within timeout."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError('ansible-rulebook did not end by itself within %s s:\n%s' % (timeout, self.timed_output())) from None
        self._reader.join(timeout=10)
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        # Only after a failure is it still running: end it, so that no process outlives the test.
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=10)
