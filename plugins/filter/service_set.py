# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.service_set filter: the keys of a service set on one host (documented in service_set.yml)."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import ansible_filter
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import service_set


class FilterModule:
    def filters(self):
        return {'service_set': ansible_filter(service_set)}
