# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The modules' whole job, callable from a module or from an action plugin alike.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.module_utils._connection import resolve_connection
from ansible_collections.xprotect.go.plugins.module_utils._control import HostServices, converge, describe_host
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WINRM_IMPORT_ERROR, WsmanClient  # noqa: F401 pylint: disable=unused-import


def _host_services(params, host_settings, environ):
    settings = resolve_connection(params, host_settings, environ)
    return HostServices(WsmanClient(settings), settings.host)


def run_service_info(params, host_settings=None, environ=None):
    services = _host_services(params, host_settings, environ)
    return describe_host(services, params.get('service_names'))


def run_service(params, host_settings=None, environ=None, check_mode=False, diff=False):
    services = _host_services(params, host_settings, environ)
    return converge(services, params, check_mode=check_mode, diff=diff)
