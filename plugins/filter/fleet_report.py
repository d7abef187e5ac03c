# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.fleet_report filter: the fleet report document (documented in fleet_report.yml)."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import ansible_filter
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import fleet_report


class FilterModule:
    def filters(self):
        return {'fleet_report': ansible_filter(fleet_report)}
