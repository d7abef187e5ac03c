# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The accounts a simulated machine knows, and Win32_Service.Change's log-on account, validated as Windows does.

Windows behaviours modelled here, and where they come from (Win32_Service.Change and ChangeServiceConfigW,
learn.microsoft.com/windows/win32/cimwin32prov/change-method-in-class-win32-service and
.../api/winsvc/nf-winsvc-changeserviceconfigw):
- StartName null: the account stays; StartPassword null: the stored password stays (a password alone may change).
- The built-in accounts (LocalSystem, NT AUTHORITY\\LocalService, NT AUTHORITY\\NetworkService) take an
  empty password; managed (name$) and virtual (NT SERVICE\\<the service itself>) accounts take none (null):
  ReturnValue 21 (invalid parameter) otherwise. A name that is no account: 22 (invalid service account).
- Only LocalSystem may run a service that interacts with the desktop: 21 otherwise.
- The password is not checked by Change: a wrong one shows when the service next starts (StartService
  answers 15, service logon failed, and the System log gets 7038 and 7000).
- .\\user is the machine's own account; user@domain (UPN) and DOMAIN\\user name the same domain account.
Passwords are kept like LSA secrets: never in snapshots or on the control endpoint.
"""

from __future__ import annotations

import typing as t

from .services import INVALID_PARAMETER, SUCCESS

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from .services import Service

NOT_SUPPORTED = 1
LOGON_FAILED = 15
INVALID_SERVICE_ACCOUNT = 22
BUILTIN = {
    'localsystem': 'LocalSystem',
    '.\\localsystem': 'LocalSystem',
    'nt authority\\system': 'LocalSystem',
    'nt authority\\localservice': 'NT AUTHORITY\\LocalService',
    'nt authority\\networkservice': 'NT AUTHORITY\\NetworkService',
}
# Change's parameters the simulator carries out; a non-null value for any other is answered with 1 (not simulated).
SIMULATED_PARAMETERS = {'startname', 'startpassword', 'startmode', 'desktopinteract'}
ERROR_LOGON_TYPE_NOT_GRANTED = 1385
ERROR_LOGON_FAILURE = 1326


class Accounts:
    """Users and managed service accounts of one machine (domain ones as its domain controller would answer), and the
    passwords stored for its services."""

    def __init__(self, machine: str, entries: Iterable[dict] = ()) -> None:
        self.machine = machine
        self.users: dict[str, dict] = {}
        self.secrets: dict[str, str | None] = {}  # service name (lower) -> the password stored with its log-on account
        for entry in entries:
            self.add(**entry)

    def add(self, name: str, password: str | None = None, upn: str | None = None, logon_right: bool = True) -> None:
        """Add (or replace) an account: DOMAIN\\user or .\\user with a password, DOMAIN\\name$ without one."""
        if '\\' not in name:
            raise ValueError('an account is DOMAIN\\user, .\\user or DOMAIN\\name$, not %r' % name)
        if not isinstance(logon_right, bool) or not (password is None or isinstance(password, str)):
            raise ValueError('password must be a string or null, logon_right true or false')
        self.users[self._key(name)] = {'name': name, 'password': password, 'upn': upn, 'logon_right': logon_right}

    def as_list(self) -> list[dict]:
        """The accounts without their passwords (the control endpoint)."""
        return [
            {'name': user['name'], 'upn': user['upn'], 'logon_right': user['logon_right'], 'has_password': user['password'] is not None}
            for user in self.users.values()
        ]

    def _key(self, name):
        name = name.strip().lower()
        return self.machine.lower() + name[1:] if name.startswith('.\\') else name

    def find(self, name: str) -> dict | None:
        """The user or managed account a name means (DOMAIN\\user, .\\user, MACHINE\\user or its UPN), else None."""
        key = self._key(name)
        if key in self.users:
            return self.users[key]
        return next((user for user in self.users.values() if user['upn'] and user['upn'].lower() == key), None)

    # -- Win32_Service.Change -------------------------------------------------------------------------

    def change(self, service: Service, params: dict) -> int:
        """Carry out Change's account part (and StartMode, DesktopInteract) on a service; returns the ReturnValue."""
        if any(params.get(name) is not None for name in params if name not in SIMULATED_PARAMETERS):
            return NOT_SUPPORTED
        interact = service.config['DesktopInteract']
        if params.get('desktopinteract') is not None:
            interact = params['desktopinteract'].strip().lower() in ('true', '1')
        account, password = params.get('startname'), params.get('startpassword')
        code, start_name = (SUCCESS, service.config['StartName']) if account is None else self._account(service, account, password)
        if code == SUCCESS and interact and start_name != 'LocalSystem':
            code = INVALID_PARAMETER
        if code != SUCCESS:
            return code
        service.config.update(StartName=start_name, DesktopInteract=interact)
        if params.get('startmode') is not None:
            service.config['StartMode'] = {'automatic': 'Auto', 'manual': 'Manual', 'disabled': 'Disabled'}.get(
                params['startmode'].lower(), service.config['StartMode']
            )
        if password is not None and start_name not in BUILTIN.values():
            self.secrets[service.name.lower()] = password
        elif start_name in BUILTIN.values():
            self.secrets.pop(service.name.lower(), None)
        return SUCCESS

    def _account(self, service, account, password):
        """(ReturnValue, the StartName Windows keeps) for a new account."""
        account = account.strip()
        builtin = BUILTIN.get(account.lower())
        if builtin:
            return SUCCESS, builtin
        if account.lower().startswith('nt service\\'):
            if account.split('\\', 1)[1].lower() != service.name.lower():
                return INVALID_SERVICE_ACCOUNT, None
            return (INVALID_PARAMETER, None) if password is not None else (SUCCESS, account)
        user = self.find(account)
        if user is None:
            return INVALID_SERVICE_ACCOUNT, None
        if user['password'] is None and password is not None:
            return INVALID_PARAMETER, None  # a managed account: its password is the domain's
        return SUCCESS, account

    # -- StartService ------------------------------------------------------------------------------------

    def logon_error(self, service: Service) -> int | None:
        """The Win32 error logging the service on fails with at start, None when it logs on. An account set out of band
        (not through Change) logs on, as the product's installer would have set it up."""
        account = service.config['StartName'] or ''
        if account.lower() in BUILTIN or account.lower().startswith('nt service\\'):
            return None
        user = self.find(account)
        if user is None:
            return None
        if not user['logon_right']:
            return ERROR_LOGON_TYPE_NOT_GRANTED
        stored = self.secrets.get(service.name.lower())
        if user['password'] is not None and stored is not None and stored != user['password']:
            return ERROR_LOGON_FAILURE
        return None
