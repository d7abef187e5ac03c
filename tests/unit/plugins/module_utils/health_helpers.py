# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hosts for the health rules' tests, described by describe_host itself so their shape is service_info's.

Not a conftest: the test files import what they use (``from health_helpers import ...``).
"""

from __future__ import annotations

import datetime
from pathlib import Path

from control_helpers import NAMES, FakeClock, FakeWindows

from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks

NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
HEALTH_DOC = Path(__file__).resolve().parents[4] / 'docs' / 'health.md'
CUSTOM_KEYS = ('recording_server', 'image_server', 'image_import', 'log_check')


def described(keys=tuple(NAMES), **changes) -> dict:
    """describe_host's whole report for a host with these catalog services; changes = {key: {Win32_Service property: value}}."""
    windows = FakeWindows(FakeClock(), keys=keys)
    for key, properties in changes.items():
        windows.services[NAMES[key].lower()].update(properties)
    return tasks.describe_host(windows)


def services(keys=tuple(NAMES), **changes) -> dict:
    """The report's ``services``: what host_verdict reads."""
    return described(keys, **changes)['services']


def with_failure(report: dict, key: str, hours_ago=None, time=None, event_id=7031) -> dict:
    """The report with a last_failure on one service (the event log reader's shape, see docs/health.md): at `time`
    as given, or `hours_ago` hours before NOW."""
    if hours_ago is not None:
        time = (NOW - datetime.timedelta(hours=hours_ago)).isoformat()
    report[key]['last_failure'] = {'time': time, 'event_id': event_id}
    return report


def rule_ids(health: dict) -> list:
    return [(reason['rule'], reason['service']) for reason in health['reasons']]


def docs_table(path=HEALTH_DOC) -> dict:
    """The rules table of docs/health.md: {rule id: (verdict, why)}, from rows | `id` | `verdict` | condition | why |."""
    rows = {}
    for line in path.read_text(encoding='utf-8').splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) == 4 and cells[0].startswith('`') and cells[1].startswith('`'):
            rows[cells[0].strip('`')] = (cells[1].strip('`'), cells[3])
    return rows


def docs_verdicts(path=HEALTH_DOC) -> list:
    """The verdicts of the docs' verdict table, in its order (rows | `verdict` | meaning |)."""
    verdicts = []
    for line in path.read_text(encoding='utf-8').splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
        if len(cells) == 2 and cells[0].startswith('`'):
            verdicts.append(cells[0].strip('`'))
    return verdicts
