# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.fleet_summary filter: the fleet report's plain-text summary (documented in fleet_summary.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, fleet_summary


def _fleet_summary(report, html_path, json_path):
    require_defined('fleet_summary', report, html_path, json_path)
    try:
        return fleet_summary(report, html_path, json_path)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.fleet_summary: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'fleet_summary': _fleet_summary}
