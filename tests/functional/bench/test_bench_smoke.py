# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""bench/run --quick runs end to end and prints every figure as a number (no timing is judged here).

It runs under the instant cost model, to stay fast; bench/run's default is windows (docs/performance.md).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
QUICK_FLEET_SIZES = (1, 3)
ROWS = (
    'Round trips/host: status of all services',
    'Round trips/host: start all six from stopped',
    'Round trips/host: restart all six',
    'Round trips/host: converged no-op',
    'Round trips/host: converged no-op, service task alone',
    'Round trips/host: status over NTLM',
    'Per-task overhead: service_info / ping, inventory winrm hosts',
    'Per-task overhead: service_info / ping, delegate_to localhost',
    'Per-task overhead: service_info / ping, real module (delegate_to localhost, become)',
    'Restart overhead: wall time / (critical path + a status read per stage)',
    'Recording downtime / (its stop + start + two status reads)',
    'Fleet scaling: fitted cost per host',
    'Peak controller memory, 3-host status run',
    'Simulated fleet start, 3 hosts',
    'Ansible floor: one delegated debug task, 3 hosts',
    'Status / floor, 3 hosts',
    'Converged start.yml / floor, 3 hosts',
    'Beyond one controller: 10,000 sites, status every 300 s',
) + tuple('Status playbook wall time, %d hosts' % count for count in QUICK_FLEET_SIZES)
# Figures that are compared with a target carry a ratio and a verdict.
JUDGED = (
    'status of all services',
    'converged no-op',
    'ping, inventory winrm hosts',
    'ping, delegate_to localhost',
    'Restart overhead',
    'Recording downtime',
    'Fleet scaling',
    'Status / floor',
    'Converged start.yml / floor',
    'start all six',
    'restart all six',
)
# Rows whose ratio --quick's two tiny fleets may leave unmeasurable (bench then says n/a instead of a ratio).
FITTED = ('Fleet scaling', 'Beyond one controller')
HEADER = 'Cost model: instant (the simulator answers at once; only the network delay is charged). Every figure below ran under it.'
NUMBER = re.compile(r'^-?\d+(\.\d+)?')

pytestmark = pytest.mark.slow


def run_quick_bench(output):
    env = dict(os.environ, XPGO_VENV_BIN=str(Path(sys.executable).parent))
    # A session of its own, so a timeout stops ansible-playbook and the fleets with the benchmark. The timeout
    # guards against a hung run, nothing more: the quick run takes about 40 s alone and 80 s beside make test's
    # other pytest workers.
    process = subprocess.Popen(
        [str(REPO / 'bench' / 'run'), '--quick', '--cost-model', 'instant', '--output', str(output)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, stdout, stderr


def markdown_rows(text):
    """{figure: (measured, ratio, target, result)} from the markdown table."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split(' | ')]
        if line.startswith('| ') and len(cells) == 5 and cells[0] != 'Figure':
            rows[cells[0]] = tuple(cells[1:])
    return rows


def test_quick_run_prints_every_figure_as_a_number(tmp_path):
    output = tmp_path / 'bench.md'
    returncode, stdout, stderr = run_quick_bench(output)

    assert returncode == 0, 'bench/run --quick failed:\n%s\n%s' % (stdout[-3000:], stderr[-3000:])
    printed = stdout.splitlines()
    rows = markdown_rows(output.read_text(encoding='utf-8'))
    for figure in ROWS:
        assert any(line.startswith(figure + '  ') for line in printed), 'stdout lacks the row %r:\n%s' % (figure, stdout)
        assert figure in rows, 'the markdown table lacks the row %r' % figure
        measured, ratio, target, result = rows[figure]
        assert NUMBER.match(measured), '%s: measured %r is not a number' % (figure, measured)
        if figure.startswith(FITTED) and ratio == 'n/a':
            continue  # --quick's two tiny fleets may differ by less than the noise: bench then says so instead of a ratio
        if any(word in figure for word in JUDGED):
            assert NUMBER.match(ratio), '%s: ratio %r is not a number' % (figure, ratio)
            assert result in ('PASS', 'MISS'), '%s: result %r' % (figure, result)
            assert target != '-', '%s has no target' % figure
    assert set(rows) == set(ROWS), 'unexpected rows: %s' % sorted(set(rows) - set(ROWS))
    assert 'Machine: ' in stdout and 'Command: bench/run --quick' in stdout
    assert HEADER in printed and HEADER in output.read_text(encoding='utf-8').splitlines(), 'the table says which cost model it ran under'
