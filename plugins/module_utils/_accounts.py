# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Log-on accounts of services: which kind an account is, when two names are the same account, and what
Win32_Service.Change is given for it.

This is private to the collection: its interface may change without notice.

From Windows' documentation (Win32_Service.Change, learn.microsoft.com/windows/win32/cimwin32prov/
change-method-in-class-win32-service; ChangeServiceConfigW, .../api/winsvc/nf-winsvc-changeserviceconfigw):
- StartName: DOMAIN\\user, .\\user for an account of the machine itself, or user@domain (UPN);
  NT SERVICE\\<service> for a virtual account, the account name (ending in $) for a managed one;
  LocalSystem, NT AUTHORITY\\LocalService, NT AUTHORITY\\NetworkService for the built-in ones.
- StartPassword: NULL leaves the stored password as it is; an empty string for the built-in accounts
  (and when switching between them); NULL for managed and virtual accounts, which have none.
- The change takes effect when the service next starts: a running service keeps its account.
Win32_Service.StartName shows the account as it was set (LocalSystem as 'LocalSystem').
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

BUILTIN = 'builtin'
VIRTUAL = 'virtual'
MANAGED = 'managed'
USER = 'user'

# Every spelling of a built-in account Windows takes or shows -> the name it is given as.
_BUILTIN_NAMES = {
    'localsystem': 'LocalSystem',
    '.\\localsystem': 'LocalSystem',
    'nt authority\\system': 'LocalSystem',
    'nt authority\\localsystem': 'LocalSystem',
    'system': 'LocalSystem',
    'localservice': 'NT AUTHORITY\\LocalService',
    'nt authority\\localservice': 'NT AUTHORITY\\LocalService',
    'nt authority\\local service': 'NT AUTHORITY\\LocalService',
    'networkservice': 'NT AUTHORITY\\NetworkService',
    'nt authority\\networkservice': 'NT AUTHORITY\\NetworkService',
    'nt authority\\network service': 'NT AUTHORITY\\NetworkService',
}
MAX_NAME = 256
# Characters no Windows account name (SAM name, domain or UPN) has: "/[]:|<>+=;,?* and control characters.
_FORBIDDEN = re.compile(r'["/\[\]:|<>+=;,?*\x00-\x1f]')
FORMS = (
    'DOMAIN\\user, .\\user for an account of the host, user@domain, NT SERVICE\\<service>, DOMAIN\\<managed account>$, '
    'LocalSystem, NT AUTHORITY\\LocalService or NT AUTHORITY\\NetworkService'
)


def builtin_name(account: str) -> t.Optional[str]:
    return _BUILTIN_NAMES.get(' '.join(account.split()).lower())


def kind(account: str) -> str:
    """BUILTIN, VIRTUAL (NT SERVICE\\...), MANAGED (ends in $) or USER."""
    if builtin_name(account):
        return BUILTIN
    if account.lower().startswith('nt service\\'):
        return VIRTUAL
    if account.endswith('$'):
        return MANAGED
    return USER


def takes_password(account: str) -> bool:
    return kind(account) == USER


def validate(account: t.Optional[str], password: t.Optional[str]) -> None:
    """Refuse an account Windows would not take, or a password for an account that has none. XProtectError(INVALID)."""
    if account is None:
        if password is not None:
            raise XProtectError('account_password needs account: name the account it belongs to', kind=errors.INVALID)
        return
    name = account.strip()
    if not name or len(name) > MAX_NAME or _FORBIDDEN.search(name):
        raise XProtectError('account %r is not an account name Windows takes: use %s' % (account, FORMS), kind=errors.INVALID)
    if builtin_name(name) is None and '\\' not in name and '@' not in name:
        raise XProtectError('account %r has no domain: use %s' % (account, FORMS), kind=errors.INVALID)
    if password is not None and not takes_password(name):
        raise XProtectError(
            'account %s has no password Windows could check (%s account): remove account_password'
            % (name, 'a built-in' if kind(name) == BUILTIN else 'a %s' % kind(name)),
            kind=errors.INVALID,
        )


def start_name(account: str) -> str:
    """What Change is given as StartName: built-in accounts by the name Windows shows, others as written."""
    return builtin_name(account) or account.strip()


def key(account: t.Optional[str], machine: t.Optional[str] = None) -> str:
    """The account's name for comparisons: built-ins by one name, .\\user as MACHINE\\user, case-insensitive."""
    account = ' '.join((account or '').split())
    builtin = builtin_name(account)
    if builtin:
        return builtin.lower()
    if account.startswith('.\\') and machine:
        account = machine + account[1:]
    return account.lower()


def same(desired: str, current: t.Optional[str], machine: t.Optional[str] = None) -> bool:
    """Whether Windows' StartName is the desired account (by name: a UPN and DOMAIN\\user are not compared)."""
    return key(desired, machine) == key(current, machine)


def upn_warning(desired: str, current: t.Optional[str]) -> t.Optional[str]:
    """A warning when one name is a UPN and the other DOMAIN\\user of what may be the same user: only a domain
    controller could say, so they count as different, and the task changes the account each time."""
    current = current or ''
    pairs = ((desired, current), (current, desired))
    for upn, down_level in pairs:
        if '@' in upn and '\\' in down_level and upn.split('@', 1)[0].lower() == down_level.rsplit('\\', 1)[1].lower():
            return (
                'account %s and the current log-on account %s may be the same user, but a user principal name and '
                'DOMAIN\\user cannot be compared without Active Directory: they count as different accounts. Write '
                'account the way Windows shows it (start_name, here %s) for the task to be idempotent' % (desired, current, current)
            )
    return None


def change_parameters(account: str, password: t.Optional[str]) -> dict:
    """StartName and StartPassword for Win32_Service.Change (None: xsi:nil, leaving the stored password)."""
    account_kind = kind(account)
    if account_kind == BUILTIN:
        secret = ''
    elif account_kind in (VIRTUAL, MANAGED):
        secret = None
    else:
        secret = password
    return {'StartName': start_name(account), 'StartPassword': secret}
