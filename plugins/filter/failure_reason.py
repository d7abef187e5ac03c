# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.failure_reason filter: why a task failed, in one line (documented in failure_reason.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, failure_reason


def _failure_reason(result, task_name):
    require_defined('failure_reason', result, task_name)
    try:
        return failure_reason(result, task_name)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.failure_reason: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'failure_reason': _failure_reason}
