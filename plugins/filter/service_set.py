# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The xprotect.go.service_set filter: the keys of a service set on one host (documented in service_set.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.xprotect.go.plugins.plugin_utils._filter_inputs import require_defined
from ansible_collections.xprotect.go.plugins.plugin_utils._roles import RoleDataError, service_set


def _service_set(services, set_name):
    require_defined('service_set', services, set_name)
    try:
        return service_set(services, set_name)
    except RoleDataError as problem:
        raise AnsibleFilterError('xprotect.go.service_set: %s' % problem) from problem


class FilterModule:
    def filters(self):
        return {'service_set': _service_set}
