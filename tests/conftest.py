# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared pytest set-up: the collection's import path and the fixtures that run Ansible.

At import this makes the repository importable as ``ansible_collections.xprotect.go`` through the
symlink ``.tmp/collections/ansible_collections/xprotect/go -> <repo root>``, the same tree that
``ANSIBLE_COLLECTIONS_PATH`` points ansible-playbook at in ``ansible_env``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
from tests.helpers import (
    _collect_results,
    _inventory_arg,
    ansible_bin_dir,
    ansible_environment,
    CAPTURES_DIR,
    COLLECTIONS_DIR,
    ensure_collection_link,
    PlaybookRun,
    REPO_ROOT,
)


# The simulated Windows hosts' fixtures (sim_fleet, sim_host, sim_control, real_inventory) come from the
# xprotect-go-simulator package's pytest11 entry point (requirements-dev.txt installs ./simulator). Naming the
# plugin here as well would register it twice, which pytest refuses; only without autoloading is it needed.
if os.environ.get('PYTEST_DISABLE_PLUGIN_AUTOLOAD'):
    pytest_plugins = ['xprotect_go_simulator.pytest_plugin']


ensure_collection_link()


if str(COLLECTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_DIR))


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope='session')
def captures_dir():
    """Real WinRM exchanges recorded on Windows, kept in the repository (see its README for provenance)."""
    return CAPTURES_DIR


@pytest.fixture
def ansible_env(tmp_path):
    """ansible_environment() for one test."""
    return ansible_environment(tmp_path)


@pytest.fixture
def run_playbook(ansible_env, tmp_path, repo_root):
    """Run ansible-playbook (from XPGO_ANSIBLE_BIN or this Python's bin dir) and return a PlaybookRun.

    run_playbook(playbook, inventory, *extra_args, check_mode=False, diff=False, expect_rc=0,
                 env=None, timeout=600) -> PlaybookRun(args, rc, stdout, stderr, results, recap)

    - `playbook`/`inventory`: paths; relative ones are taken from the repository root (an
      inventory ending in ',' is an inline host list).
    - `check_mode`/`diff` add --check/--diff (named so, as "check" could mean the rc check).
    - `expect_rc`: the rc to assert (the failure shows stdout and stderr); None asserts nothing.
    - `results`: structured per-host task results (TaskResult: host, play, task, status, result);
      `.task(name, host)` picks one. ansible-core 2.19 ships no json stdout callback (it moved
      to ansible.posix, which we do not depend on), so stdout stays the human-readable `default`
      callback, and the built-in `junit` notification callback (2.16 to 2.19) records each
      task's result JSON. Failed and unreachable results come from stdout's one-line `fatal:`
      JSON (junit lacks them), so pass no -vvv when you need those. Role tasks are named
      "<role> : <task>"; play names must not contain ': '. Skipped tasks carry no result;
      no_log results are censored by Ansible itself.
    - `recap`: the PLAY RECAP counters per host; `warnings` and `has_warning(text)` for [WARNING]s.
    """
    counter = itertools.count()

    def run(playbook, inventory, *extra_args, check_mode=False, diff=False, expect_rc=0, env=None, timeout=600):
        report_dir = tmp_path / ('junit-%d' % next(counter))
        args = [str(ansible_bin_dir() / 'ansible-playbook'), '-i', _inventory_arg(repo_root, inventory), str(repo_root / playbook)]
        args += ['--check'] if check_mode else []
        args += ['--diff'] if diff else []
        args += [str(arg) for arg in extra_args]
        run_env = dict(ansible_env)
        run_env.update(
            {
                'ANSIBLE_CALLBACKS_ENABLED': 'ansible.builtin.junit',
                'JUNIT_OUTPUT_DIR': str(report_dir),
                'JUNIT_HIDE_TASK_ARGUMENTS': 'True',
            }
        )
        run_env.update(env or {})
        completed = subprocess.run(args, env=run_env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout, check=False)
        results, recap = _collect_results(report_dir, completed.stdout)
        outcome = PlaybookRun(args, completed.returncode, completed.stdout, completed.stderr, results, recap)
        if expect_rc is not None and outcome.rc != expect_rc:
            raise AssertionError(
                'ansible-playbook exited %d, expected %d\n--- stdout\n%s\n--- stderr\n%s'
                % (outcome.rc, expect_rc, outcome.stdout, outcome.stderr)
            )
        return outcome

    return run
