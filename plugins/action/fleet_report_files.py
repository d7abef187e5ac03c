# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.fleet_report_files: write files on the controller, in this process (plugin_utils/_report_files)."""

from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.plugin_utils._action import validated_params
from ansible_collections.xprotect.go.plugins.module_utils._specs import fleet_report_files_spec
from ansible_collections.xprotect.go.plugins.plugin_utils._report_files import write_files


class ActionModule(ActionBase):
    BYPASS_HOST_LOOP = True
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> dict:
        result = super().run(tmp, task_vars)
        params = validated_params(self, fleet_report_files_spec())
        try:
            changed = write_files(params['files'], params['mode'], bool(self._play_context.check_mode))
        except XProtectError as error:
            return dict(result, failed=True, msg=str(error))
        return dict(result, changed=bool(changed), paths=changed)
