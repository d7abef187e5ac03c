# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.rollout_outcome filter: what a rolling restart did to one host (documented in rollout_outcome.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, rollout_outcome


def _rollout_outcome(before, host, restart=None, error='', check_mode=False, after=None):
    require_defined('rollout_outcome', before, host, restart, error, check_mode, after)
    try:
        return rollout_outcome(before, host, restart, error, check_mode, after)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.rollout_outcome: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'rollout_outcome': _rollout_outcome}
