# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""docs/examples/xprotect-ci.yml, run step by step the way a GitHub Actions runner would, so it cannot rot.

Each step's `run` goes to `bash --noprofile --norc -eo pipefail` (the runner's shell), in order, in a
scratch working directory, with RUNNER_TEMP, GITHUB_WORKSPACE (this checkout) and GITHUB_ENV set; lines
a step appends to GITHUB_ENV reach the later steps. Steps with `uses:` need the network and are left
out (their effect, Python with ansible-core, is this venv). After a failure only `if: always()` steps
run. pip is held offline: the install step must find everything already there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.functional.reliability.leaks import all_processes

pytestmark = pytest.mark.slow

WORKFLOW = Path('docs') / 'examples' / 'xprotect-ci.yml'
STEP_TIMEOUT = 150
TOTAL_TIMEOUT = 300


def session_members(session_id):
    """Pids of the processes still in a session (Linux /proc), to prove the workflow stopped its fleet. The leak
    tests' process table: it reads /proc without tripping over processes that end meanwhile."""
    return [pid for pid, (_ppid, _state, session, _start) in all_processes().items() if session == session_id]


def read_github_env(path):
    """The KEY=VALUE lines steps appended to $GITHUB_ENV."""
    pairs = (line.split('=', 1) for line in path.read_text(encoding='utf-8').splitlines() if '=' in line)
    return dict(pairs)


def run_step(step, env, cwd, timeout):
    """(rc, output) of one step; its shell leads a new session so everything it left behind can be found."""
    process = subprocess.Popen(
        ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', step['run']],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate()[0]
        return 'timeout after %d s' % timeout, output, process.pid
    return process.returncode, output, process.pid


def test_ci_example_workflow_runs_step_by_step(repo_root, ansible_env, tmp_path):
    workflow = yaml.safe_load((repo_root / WORKFLOW).read_text(encoding='utf-8'))
    (job,) = workflow['jobs'].values()
    steps = [step for step in job['steps'] if 'run' in step]
    assert len(steps) >= 8 and all('uses' not in step for step in steps)

    runner_temp, workdir, github_env = tmp_path / 'runner-temp', tmp_path / 'work', tmp_path / 'github-env'
    runner_temp.mkdir()
    workdir.mkdir()
    github_env.touch()
    env = dict(ansible_env)
    env.pop('ANSIBLE_COLLECTIONS_PATH')  # the pipeline must use the collection it installed, not this checkout
    env.update({key: str(value) for key, value in (job.get('env') or {}).items()})
    env.update(
        {
            'GITHUB_WORKSPACE': str(repo_root),
            'RUNNER_TEMP': str(runner_temp),
            'GITHUB_ENV': str(github_env),
            'PIP_NO_INDEX': '1',
            'PIP_DISABLE_PIP_VERSION_CHECK': '1',
        }
    )

    deadline = time.monotonic() + TOTAL_TIMEOUT
    log, failure, sessions = [], None, []
    try:
        for step in steps:
            if failure and 'always()' not in str(step.get('if', '')):
                continue
            remaining = max(1, min(STEP_TIMEOUT, int(deadline - time.monotonic())))
            started = time.monotonic()
            rc, output, session = run_step(step, dict(env, **read_github_env(github_env)), workdir, remaining)
            sessions.append(session)
            log.append('--- %s (rc %s, %.1f s)\n%s' % (step.get('name', step['run'][:40]), rc, time.monotonic() - started, output))
            if rc != 0 and failure is None:
                failure = step.get('name')
        leftovers = []
        for session in sessions:
            give_up = time.monotonic() + 10
            while session_members(session) and time.monotonic() < give_up:
                time.sleep(0.2)
            leftovers += session_members(session)
    finally:
        for session in sessions:  # safety net: stop whatever a step left running, the fleet above all
            for pid in session_members(session):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    transcript = '\n'.join(log)
    assert failure is None, 'step %r failed\n%s' % (failure, transcript)
    assert leftovers == [], 'the workflow left processes running: %s\n%s' % (leftovers, transcript)
    # It really used the built tarball, the fleet served from the installed collection, and every playbook ran.
    assert list((runner_temp / 'collections' / 'ansible_collections' / 'xprotect' / 'go' / 'playbooks').glob('*.yml'))
    assert 'READY control=' in transcript
    for play in (
        'Report the status of the XProtect Go fleet',
        'Stop the XProtect Go services for a maintenance window',
        'Start the XProtect Go services',
        'Restart the XProtect Go fleet in rolling batches',
    ):
        assert 'PLAY [%s]' % play in transcript
    assert 'Rolling restart done: 3 restarted, 0 failed, 0 unreachable, 0 not restarted, of 3 hosts.' in transcript
    assert (runner_temp / 'fleet' / 'xprotect-fleet-report.html').stat().st_size > 2000
