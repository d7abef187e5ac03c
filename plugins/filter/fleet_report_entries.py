# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.fleet_report_entries filter: every host's entry of the fleet report (documented in fleet_report_entries.yml)."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import ansible_filter
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import fleet_report_entries


class FilterModule:
    def filters(self):
        return {'fleet_report_entries': ansible_filter(fleet_report_entries)}
