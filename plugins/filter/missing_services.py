# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.missing_services filter: the keys of a service set a host does not have (documented in missing_services.yml)."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import ansible_filter
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import missing_services


class FilterModule:
    def filters(self):
        return {'missing_services': ansible_filter(missing_services)}
