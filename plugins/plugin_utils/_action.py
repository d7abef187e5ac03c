# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The base of the collection's action plugins. Private to the collection.

Against a Windows inventory host (winrm or psrp connection) the plugin does the module's job
right here on the controller, with the host's own connection settings: no module is sent
anywhere and the connection plugin never connects (it connects lazily, and we never call it).

Delegated to the controller itself (delegate_to: localhost, or a play on localhost, over the
local connection) it does the same, with the inventory host's connection settings filled in for
the options the task left unset: the module would run on this machine anyway, so starting a
Python process that imports pywinrm again for every host only costs time (docs/performance.md).

The real module runs instead, with the same settings filled in, whenever the work must happen
elsewhere or as someone else: over any other connection (delegate_to a jump host), with become,
or when pywinrm does not import on the controller (the interpreter configured for localhost
may have it).

The connection plugin's options are read straight into our option names by the table in
module_utils/_connection_options (host_settings_from_plugin); delegated, the inventory host's
variables are read by the same table (host_settings_from_vars).
"""

from __future__ import annotations

import os
import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.xprotect.go.plugins.module_utils._connection import resolve_connection
from ansible_collections.xprotect.go.plugins.module_utils._connection_options import (
    CONNECTION_OPTIONS,
    INVENTORY_VARIABLE_NAMES,
    WINDOWS_CONNECTIONS,
    host_settings_from_plugin,
    host_settings_from_vars,
)
from ansible_collections.xprotect.go.plugins.module_utils._specs import SERVICE_NAMES_VARIABLE
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._tasks import WINRM_IMPORT_ERROR


def validated_params(action: ActionBase, module_spec: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    """The task's arguments checked against a module's spec (as _specs gives it, for AnsibleModule): Ansible raises
    AnsibleActionFail with every problem named, before anything is sent."""
    spec = {key: value for key, value in module_spec.items() if key != 'supports_check_mode'}
    dummy, params = action.validate_argument_spec(**spec)
    return params


class XProtectActionBase(ActionBase):
    """Subclasses set MODULE (the module's FQCN), spec() (its argument spec) and run_logic()."""

    _supports_check_mode = True
    _supports_async = False

    MODULE = None

    @staticmethod
    def spec() -> dict:
        raise NotImplementedError

    def run_logic(self, params: t.Dict[str, t.Any], host_settings: t.Any) -> dict:
        raise NotImplementedError

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> dict:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        spec = self.spec()
        params = validated_params(self, spec)
        if params.get('service_names') is None and 'service_names' in spec['argument_spec']:
            params['service_names'] = self._variable(task_vars, SERVICE_NAMES_VARIABLE)

        connection = getattr(self._connection, 'transport', None)
        try:
            if connection in WINDOWS_CONNECTIONS:
                result.update(self.run_logic(params, host_settings_from_plugin(self._connection.get_option, connection, task_vars)))
            elif self._module_would_run_here(connection):
                result.update(self.run_logic(params, host_settings_from_vars(self._inventory_host_variables(task_vars))))
            else:
                result.update(self._run_module_elsewhere(params, task_vars))
        except XProtectError as error:
            key = 'unreachable' if error.unreachable else 'failed'
            result.update(error.result)
            result.update({key: True, 'msg': str(error)})
        return result

    def _module_would_run_here(self, connection):
        """True when the module would run on this controller, as this user, with pywinrm importable."""
        return connection == 'local' and not self._play_context.become and WINRM_IMPORT_ERROR is None

    def _run_module_elsewhere(self, params, task_vars):
        """Run the real module over this task's connection, the host's connection settings filled in."""
        settings = resolve_connection(params, host_settings_from_vars(self._inventory_host_variables(task_vars)), os.environ)
        module_args = {option: value for option, value in params.items() if value is not None}
        module_args.update(
            {option.name: getattr(settings, option.name) for option in CONNECTION_OPTIONS if getattr(settings, option.name) is not None}
        )
        result = self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars)
        if result.get('unreachable'):
            # The module cannot tell Ansible itself (fail_json always fails): report it as the in-process path does.
            result.pop('failed', None)
        return result

    def _inventory_host_variables(self, task_vars):
        """The inventory host's Windows connection variables, for a task delegated away from it."""
        # Only a Windows inventory host's variables describe the Windows host; a plain
        # `hosts: localhost` play has its own ansible_host, which must not win over the environment.
        if str(self._variable(task_vars, 'ansible_connection')).rsplit('.', 1)[-1] not in WINDOWS_CONNECTIONS:
            return {}
        return {name: self._variable(task_vars, name) for name in task_vars if name in INVENTORY_VARIABLE_NAMES}

    def _variable(self, task_vars, name):
        value = task_vars.get(name)
        return None if value is None else self._templar.template(value)

    @property
    def check_mode(self) -> bool:
        return bool(self._play_context.check_mode)

    @property
    def diff(self) -> bool:
        return bool(self._play_context.diff)
