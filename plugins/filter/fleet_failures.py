# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.fleet_failures filter: the hosts with a verdict to fail on (documented in fleet_failures.yml)."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import ansible_filter
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import fleet_failures


class FilterModule:
    def filters(self):
        return {'fleet_failures': ansible_filter(fleet_failures)}
