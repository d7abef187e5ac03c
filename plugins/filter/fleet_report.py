# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.fleet_report filter: the fleet report document (documented in fleet_report.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, fleet_report


def _fleet_report(hosts, title, generated):
    require_defined('fleet_report', hosts, title, generated)
    try:
        return fleet_report(hosts, title, generated)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.fleet_report: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'fleet_report': _fleet_report}
