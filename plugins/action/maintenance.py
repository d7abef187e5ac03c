# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The maintenance switch lives on the controller: do the module's job here, whatever the host's connection.

Nothing is sent to the inventory host and its connection plugin never connects (it connects lazily).
The host defaults to inventory_hostname and the directory to the xprotect_go_maintenance_dir variable,
so the event source, reading the same inventory, looks in the same place.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.xprotect.go.plugins.module_utils._maintenance import (
    DIRECTORY_VARIABLE,
    MaintenanceError,
    argument_spec,
    current_user,
    run,
)


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, params = self.validate_argument_spec(argument_spec=argument_spec())
        params = dict(params)
        if not params.get('host'):
            params['host'] = task_vars.get('inventory_hostname')
        if not params.get('directory') and task_vars.get(DIRECTORY_VARIABLE) is not None:
            params['directory'] = self._templar.template(task_vars[DIRECTORY_VARIABLE])
        try:
            result.update(
                run(params, by=current_user(), check_mode=bool(self._play_context.check_mode), diff=bool(self._play_context.diff))
            )
        except MaintenanceError as error:
            result.update({'failed': True, 'msg': str(error)})
        return result
