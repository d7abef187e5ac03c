# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.fleet_service_info: service_info for every host of the play, from one task on the controller.

The task runs once (BYPASS_HOST_LOOP, like run_once). Each host's variables are read through
hostvars, which templates them in that host's own context (its vaulted and templated values, not
the first host's); plugin_utils/_fleet_read does the rest.
"""

from __future__ import annotations

import os
import typing as t

from ansible import context
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._specs import fleet_service_info_spec
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_read import (
    HOST_VARIABLE_NAMES,
    concurrency,
    fleet_warnings,
    read_fleet,
)


class ActionModule(ActionBase):
    BYPASS_HOST_LOOP = True
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> dict:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        spec = dict(fleet_service_info_spec())
        spec.pop('supports_check_mode', None)
        dummy, params = self.validate_argument_spec(**spec)
        hostvars = task_vars.get('hostvars', {})
        names = list(params.pop('hosts') or task_vars.get('ansible_play_batch') or [])
        unknown = [name for name in names if name not in hostvars]
        if unknown:
            return dict(result, failed=True, msg='hosts not in the inventory: %s' % ', '.join(unknown))
        try:
            workers = concurrency(params.pop('concurrency'), context.CLIARGS.get('forks'))
        except XProtectError as error:
            return dict(result, failed=True, msg=str(error))

        fleet = {name: _host_variables(hostvars, name) for name in names}
        hosts = read_fleet(fleet, params, os.environ, workers)
        addresses = {name: _address(name, variables) for name, variables in fleet.items()}
        return dict(result, changed=False, hosts=hosts, addresses=addresses, warnings=fleet_warnings(hosts))


def _host_variables(hostvars: t.Any, name: str) -> t.Union[dict, XProtectError]:
    """The variables a read needs of host `name`, templated in that host's context (hostvars does that);
    the error that fails this host alone when one cannot be templated."""
    variables = hostvars[name]
    try:
        return {key: variables[key] for key in HOST_VARIABLE_NAMES if key in variables}
    except AnsibleError as error:
        # Ansible's message names the template, never a resolved value.
        return XProtectError('the connection variables of %s could not be resolved: %s' % (name, error), kind=errors.INVALID)


def _address(name: str, variables: t.Union[dict, XProtectError]) -> str:
    """Where the report says the host is: its ansible_host, else its inventory name."""
    address = None if isinstance(variables, XProtectError) else variables.get('ansible_host')
    return name if address is None else str(address)
