# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

from ansible_collections.xprotect.go.plugins.module_utils._tasks import run_service
from ansible_collections.xprotect.go.plugins.module_utils._specs import service_spec
from ansible_collections.xprotect.go.plugins.plugin_utils._action import XProtectActionBase


class ActionModule(XProtectActionBase):
    MODULE = 'xprotect.go.service'

    @staticmethod
    def spec():
        return service_spec()

    def run_logic(self, params, host_settings):
        return run_service(params, host_settings, os.environ, check_mode=self.check_mode, diff=self.diff)
