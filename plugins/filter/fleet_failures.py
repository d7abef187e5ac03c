# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.fleet_failures filter: the hosts with a verdict to fail on (documented in fleet_failures.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, fleet_failures


def _fleet_failures(report, verdicts):
    require_defined('fleet_failures', report, verdicts)
    try:
        return fleet_failures(report, verdicts)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.fleet_failures: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'fleet_failures': _fleet_failures}
