# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.fleet_service_plan: what the service module would do on every host of the play (its check mode), from
one task on the controller (plugin_utils/_fleet_action resolves each host's settings, plugin_utils/_fleet_read plans)."""

from __future__ import annotations

import os
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils._plan import validate_request
from ansible_collections.xprotect.go.plugins.module_utils._specs import fleet_service_plan_spec
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_action import FleetActionBase
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_read import FleetHosts, plan_fleet


class ActionModule(FleetActionBase):
    spec = staticmethod(fleet_service_plan_spec)

    def fleet_result(self, fleet: FleetHosts, params: t.Dict[str, t.Any], workers: int) -> dict:
        # A task the service module would refuse fails here, once, not once per host.
        validate_request(params)
        return dict(plan_fleet(fleet, params, os.environ, workers), changed=False)
