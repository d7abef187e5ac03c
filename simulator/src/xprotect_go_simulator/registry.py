# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""StdRegProv's DWORD methods, for the keys HKLM\\SYSTEM\\CurrentControlSet\\Services\\<Name>.

Only DelayedAutostart means something to the services (it is their DelayedAutoStart property);
other values are kept and read back. Return values are Win32 error codes, as StdRegProv's are.
"""

from __future__ import annotations

import typing as t

from . import soap
from .services import denied

if t.TYPE_CHECKING:
    from .services import ServiceControlManager

STDREGPROV_URI = soap.WMI_BASE + 'root/default/StdRegProv'

REG_SUCCESS = 0
REG_NOT_FOUND_VALUE = 1
REG_NOT_FOUND = 2
REG_ACCESS_DENIED = 5
REG_INVALID_PARAMETER = 87
HKEY_LOCAL_MACHINE = 2147483650
SERVICES_KEY = 'system\\currentcontrolset\\services\\'
DELAYED_VALUE = 'delayedautostart'


class StdRegProv:
    """The registry values written through StdRegProv on one host (params: {lower-case name: text})."""

    METHODS = ('SetDWORDValue', 'GetDWORDValue')

    def __init__(self, scm: ServiceControlManager) -> None:
        self.scm = scm
        self._values: dict[tuple[str, str], int] = {}  # (service key lower, value name lower) -> DWORD
        self._delayed_written: set[str] = set()  # services whose DelayedAutostart value was written

    def call(self, method: str, params: dict, username: str) -> list[tuple[str, object]]:
        """The [(name, value)] outputs of one method call, ReturnValue first."""
        if method == 'SetDWORDValue':
            return [('ReturnValue', self.set_dword(params, username))]
        return self.get_dword(params)

    def _target(self, params):
        """(service, value name lower) for the parameters, or a StdRegProv error code."""
        try:
            hive = int(params.get('hdefkey') or HKEY_LOCAL_MACHINE)
        except ValueError:
            return REG_INVALID_PARAMETER
        key = (params.get('ssubkeyname') or '').strip('\\').lower()
        value_name = (params.get('svaluename') or '').lower()
        if hive != HKEY_LOCAL_MACHINE or not key.startswith(SERVICES_KEY):
            return REG_NOT_FOUND
        service = self.scm.find(key[len(SERVICES_KEY) :])
        if service is None:
            return REG_NOT_FOUND
        return service, value_name

    def set_dword(self, params: dict, username: str) -> int:
        target = self._target(params)
        if isinstance(target, int):
            return target
        service, value_name = target
        try:
            value = int(params.get('uvalue'))  # type: ignore[arg-type]  # None is a TypeError, caught
        except (TypeError, ValueError):
            return REG_INVALID_PARAMETER
        if not 0 <= value <= 0xFFFFFFFF:
            return REG_INVALID_PARAMETER
        if denied(service, username):
            return REG_ACCESS_DENIED
        if value_name == DELAYED_VALUE:
            service.config['DelayedAutoStart'] = value != 0
            self._delayed_written.add(service.name.lower())
        else:
            self._values[(service.name.lower(), value_name)] = value
        return REG_SUCCESS

    def get_dword(self, params: dict) -> list[tuple[str, object]]:
        target = self._target(params)
        if isinstance(target, int):
            return [('ReturnValue', target)]
        service, value_name = target
        value: int | None
        if value_name == DELAYED_VALUE and (service.config['DelayedAutoStart'] or service.name.lower() in self._delayed_written):
            value = int(service.config['DelayedAutoStart'])
        else:
            value = self._values.get((service.name.lower(), value_name))
        if value is None:
            return [('ReturnValue', REG_NOT_FOUND_VALUE)]
        return [('ReturnValue', REG_SUCCESS), ('uValue', value)]
