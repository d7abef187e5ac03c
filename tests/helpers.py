# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the tests under tests: plain functions, classes and constants (conftest.py holds only
fixtures and hooks; tests import these from here)."""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from xprotect_go_simulator.profiles import XPROTECT_SERVICES


REPO_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / '.tmp' / 'collections'
COLLECTION_LINK = COLLECTIONS_DIR / 'ansible_collections' / 'xprotect' / 'go'


# Relative, so the link survives moving or re-cloning the checkout.
COLLECTION_LINK_TARGET = os.path.join('..', '..', '..', '..')
CAPTURES_DIR = REPO_ROOT / 'tests' / 'fixtures' / 'winrm-captures'
# The Windows names of the six XProtect Go services, Recording Server first (the simulator's profiles).
XPROTECT_NAMES = tuple(service['Name'] for service in XPROTECT_SERVICES)
# What every ansible-playbook the tests (and bench/run) start shares: only this checkout's collections, no colour,
# no host key checks, no retry files.
ISOLATED_ANSIBLE = {
    'ANSIBLE_COLLECTIONS_PATH': str(COLLECTIONS_DIR),
    'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'False',
    'ANSIBLE_NOCOLOR': '1',
    'ANSIBLE_FORCE_COLOR': '0',
    'ANSIBLE_HOST_KEY_CHECKING': 'False',
    'ANSIBLE_RETRY_FILES_ENABLED': '0',
}


def ensure_collection_link():
    """Create (or repair) the collection symlink; atomic, so parallel test runs cannot trip over it."""
    if os.path.islink(COLLECTION_LINK) and os.readlink(COLLECTION_LINK) == COLLECTION_LINK_TARGET:
        return
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    temporary = COLLECTION_LINK.with_name('.go-%s' % uuid.uuid4().hex)
    os.symlink(COLLECTION_LINK_TARGET, temporary)
    os.replace(temporary, COLLECTION_LINK)


def ansible_bin_dir():
    """Where ansible-playbook comes from: $XPGO_ANSIBLE_BIN (e.g. .venv-2.16/bin) or this Python's bin dir."""
    return Path(os.environ.get('XPGO_ANSIBLE_BIN') or Path(sys.executable).parent).absolute()


def ansible_environment(tmp_path):
    """Environment for a subprocess ansible-playbook that finds this checkout as xprotect.go.

    Isolated from the user's setup: no ansible.cfg (ANSIBLE_CONFIG is dropped and the helpers run in
    a temporary directory), only our collections path, temporary dirs under tmp_path, no colour.
    ANSIBLE_PYTHON_INTERPRETER is the Python next to ansible-playbook, so tasks delegated to
    localhost run where pywinrm is installed.
    """
    bin_dir = ansible_bin_dir()
    env = dict(os.environ)
    env.pop('ANSIBLE_CONFIG', None)
    env.update(ISOLATED_ANSIBLE)
    env.update(
        {
            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
            'ANSIBLE_REMOTE_TEMP': str(tmp_path / 'ansible-remote'),
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'ANSIBLE_PYTHON_INTERPRETER': str(bin_dir / 'python') if (bin_dir / 'python').exists() else sys.executable,
            # The stop and restart playbooks set maintenance switches: in the test's directory, never the user's home.
            'XPROTECT_GO_MAINTENANCE_DIR': str(tmp_path / 'maintenance'),
            'PATH': os.pathsep.join([str(bin_dir), env.get('PATH', '')]),
        }
    )
    return env


# The ways a task reaches a Windows inventory host. 'inventory' and 'delegate' (delegate_to: localhost)
# both have the action plugin do the work on the controller; with become added, it ships the real
# module instead ('module'). Keywords a task sets itself win.
WAYS_IN = ('inventory', 'delegate', 'module')
_WAY_KEYWORDS = {
    'inventory': {},
    'delegate': {'delegate_to': 'localhost'},
    'module': {'delegate_to': 'localhost', 'become': True, 'become_method': 'ansible.builtin.su'},
}


def tasks_by_way(tasks, way):
    """The tasks (a list of dicts) with the keywords of a way in."""
    return [dict(_WAY_KEYWORDS[way], **task) for task in tasks]


@dataclass
class TaskResult:
    """One task's outcome on one host."""

    host: str
    play: str
    task: str
    status: str  # 'ok', 'changed', 'failed', 'skipped' or 'unreachable'
    result: dict = field(default_factory=dict)


def _squash(text):
    return re.sub(r'\s+', '', text)


@dataclass
class PlaybookRun:
    args: list
    rc: int
    stdout: str
    stderr: str
    results: list
    recap: dict  # host -> {'ok': n, 'changed': n, 'unreachable': n, 'failed': n, 'skipped': n, ...}

    @property
    def warnings(self):
        """The [WARNING] messages, as printed (ansible-core 2.16 wraps them at 79 columns, even mid-word)."""
        found, inside = [], False
        for line in self.stderr.splitlines():
            if line.startswith('[WARNING]: '):
                found.append(line[len('[WARNING]: ') :])
                inside = True
            elif inside and line.strip() and not line.startswith('['):
                found[-1] += '\n' + line
            else:
                inside = False
        return found

    def has_warning(self, text):
        """Whether some [WARNING] contains `text`, whitespace ignored (so wrapping does not matter)."""
        return any(_squash(text) in _squash(warning) for warning in self.warnings)

    def task(self, name, host=None):
        """The result of the task called `name` (on `host` when several hosts ran it)."""
        matches = [r for r in self.results if r.task == name and host in (None, r.host)]
        if len(matches) != 1:
            raise AssertionError('expected one result for task %r host %r, found %d:\n%s' % (name, host, len(matches), self.stdout))
        return matches[0]


PLAY_HEADER = re.compile(r'^PLAY \[(?P<play>.*)\] \**$')
TASK_HEADER = re.compile(r'^(?:TASK|RUNNING HANDLER) \[(?P<task>.*)\] \**$')
FATAL_LINE = re.compile(r'^fatal: \[(?P<host>[^\]]+)\]: (?P<kind>FAILED|UNREACHABLE)! => (?P<result>\{.*\})$')
CASE_NAME = re.compile(r'^\[(?P<host>[^\]]*)\] (?P<play>.*?): (?P<task>.*)$', re.DOTALL)
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$')


def _parse_stdout(stdout):
    """The default callback's fatal lines {(task, host): (play, kind, result)} and its PLAY RECAP."""
    fatal, recap, play, task = {}, {}, None, None
    for line in stdout.splitlines():
        if header := PLAY_HEADER.match(line):
            play = header['play']
        elif header := TASK_HEADER.match(line):
            task = header['task']
        elif failed := FATAL_LINE.match(line):
            fatal[(task, failed['host'])] = (play, failed['kind'].lower(), json.loads(failed['result']))
        elif counts := RECAP_LINE.match(line.rstrip()):
            recap[counts['host']] = {key: int(value) for key, value in re.findall(r'(\w+)=(\d+)', counts['counts'])}
    return fatal, recap


def _parse_junit(report_dir):
    """Task results from the junit callback's XML (test case names are "[host] play: task")."""
    results = []
    for report in sorted(report_dir.glob('*.xml')):
        for case in ET.parse(report).getroot().iter('testcase'):
            host, play, task = CASE_NAME.match(case.get('name', '')).groups()
            problem = case.find('failure') if case.find('failure') is not None else case.find('error')
            if case.find('skipped') is not None:
                status, result = 'skipped', {}
            elif problem is not None:
                # 2.19 records an <error> with a traceback instead of the result: keep its message.
                status, result = 'failed', _json_or(problem.text, {'msg': problem.get('message')})
            else:
                result = _json_or(case.findtext('system-out'), {})
                status = 'changed' if result.get('changed') else 'ok'
            results.append(TaskResult(host, play, task, status, result))
    return results


def _json_or(text, default):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _collect_results(report_dir, stdout):
    """junit's per-task results, with failures and unreachable hosts taken from stdout's fatal lines.

    junit does not record unreachable hosts at all, and ansible-core 2.19 gives it no failed
    result; the default callback prints both as one JSON line (unless run with -vvv or more).
    """
    fatal, recap = _parse_stdout(stdout)
    results = _parse_junit(report_dir) if report_dir.is_dir() else []
    for item in results:
        if (item.task, item.host) in fatal:  # junit reports a failure under ignore_errors as ok
            item.status, item.result = 'failed', fatal[(item.task, item.host)][2]
    for (task, host), (play, kind, result) in fatal.items():
        if kind == 'unreachable':
            results.append(TaskResult(host, play, task, kind, result))
    return results, recap


def _inventory_arg(repo_root, inventory):
    """A path (relative ones from the repository root), or an inline host list such as 'localhost,'."""
    inventory = str(inventory)
    return inventory if inventory.endswith(',') else str(repo_root / inventory)
