# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.rollout_summary filter: a rolling restart so far, as lines (documented in rollout_summary.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, rollout_summary


def _rollout_summary(outcomes, hosts, batch, max_fail_percentage=0, check_mode=False):
    require_defined('rollout_summary', outcomes, hosts, batch, max_fail_percentage, check_mode)
    try:
        return rollout_summary(outcomes, hosts, batch, max_fail_percentage, check_mode)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.rollout_summary: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'rollout_summary': _rollout_summary}
