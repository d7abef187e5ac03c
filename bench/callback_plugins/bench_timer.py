# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Time stamps of a playbook run, for bench/run (not part of the collection).

Writes JSON to $XPGO_BENCH_TIMER_FILE when the run ends: when the playbook started, when each task
started and when each of its host results reached the controller, and when the run ended.
A task's wall time is its last result minus its start: what it cost, without ansible-playbook's
own start-up and without the tasks around it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Records task start and result times for bench/run
description:
  - Writes the times as JSON to the file named by the environment variable XPGO_BENCH_TIMER_FILE.
requirements:
  - enable in ansible.cfg or ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._record = {'playbook_start': None, 'end': None, 'tasks': []}
        self._by_uuid = {}

    def v2_playbook_on_start(self, playbook):
        self._record['playbook_start'] = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        entry = {'name': task.get_name(), 'start': time.time(), 'results': []}
        self._by_uuid[task._uuid] = entry
        self._record['tasks'].append(entry)

    def _result(self, result, status):
        entry = self._by_uuid.get(result._task._uuid)
        if entry is not None:
            entry['results'].append({'host': result._host.get_name(), 'status': status, 'time': time.time()})

    def v2_runner_on_ok(self, result):
        self._result(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        self._record['end'] = time.time()
        path = os.environ.get('XPGO_BENCH_TIMER_FILE')
        if path:
            with open(path, 'w', encoding='utf-8') as stream:
                json.dump(self._record, stream)
