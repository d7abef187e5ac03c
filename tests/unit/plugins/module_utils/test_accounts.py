# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Log-on accounts: the kinds, when two names are one account, what Change is given, what is refused."""

from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _accounts as accounts
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError


@pytest.mark.parametrize(
    'name, kind',
    [
        ('LocalSystem', accounts.BUILTIN),
        ('.\\LocalSystem', accounts.BUILTIN),
        ('NT AUTHORITY\\SYSTEM', accounts.BUILTIN),
        ('nt authority\\networkservice', accounts.BUILTIN),
        ('NT AUTHORITY\\Local Service', accounts.BUILTIN),
        ('NT SERVICE\\MSSQL$SQLEXPRESS', accounts.VIRTUAL),
        ('XPGO\\gmsa-xprotect$', accounts.MANAGED),
        ('XPGO\\svc-imageserver', accounts.USER),
        ('.\\xpgo-svc', accounts.USER),
        ('svc@xpgo.example', accounts.USER),
    ],
)
def test_kinds(name, kind):
    assert accounts.kind(name) == kind
    assert accounts.takes_password(name) == (kind == accounts.USER)


@pytest.mark.parametrize(
    'desired, current, machine',
    [
        ('LocalSystem', 'LocalSystem', None),
        ('localsystem', 'LocalSystem', None),
        ('.\\LocalSystem', 'LocalSystem', None),
        ('NT AUTHORITY\\SYSTEM', 'LocalSystem', None),
        ('NT AUTHORITY\\NetworkService', 'NT AUTHORITY\\NETWORK SERVICE', None),
        ('NetworkService', 'NT AUTHORITY\\NetworkService', None),
        ('XPGO\\Svc-ImageServer', 'xpgo\\svc-imageserver', None),
        ('.\\xpgo-svc', 'NVR01\\xpgo-svc', 'NVR01'),
        ('NVR01\\xpgo-svc', '.\\xpgo-svc', 'nvr01'),
    ],
)
def test_the_same_account_by_another_name(desired, current, machine):
    assert accounts.same(desired, current, machine)


@pytest.mark.parametrize(
    'desired, current, machine',
    [
        ('LocalSystem', 'NT AUTHORITY\\LocalService', None),
        ('.\\xpgo-svc', 'NVR02\\xpgo-svc', 'NVR01'),
        ('.\\xpgo-svc', 'NVR01\\xpgo-svc', None),  # the machine's name not known: not the same
        ('svc-imageserver@xpgo.example', 'XPGO\\svc-imageserver', None),  # a UPN cannot be compared without AD
        ('XPGO\\svc', None, None),
    ],
)
def test_other_accounts(desired, current, machine):
    assert not accounts.same(desired, current, machine)


def test_a_upn_against_domain_user_is_said_to_count_as_different():
    warning = accounts.upn_warning('svc-imageserver@xpgo.example', 'XPGO\\svc-imageserver')
    assert 'cannot be compared without Active Directory' in warning and 'XPGO\\svc-imageserver' in warning
    assert accounts.upn_warning('XPGO\\svc-imageserver', 'svc-imageserver@xpgo.example')
    assert accounts.upn_warning('other@xpgo.example', 'XPGO\\svc-imageserver') is None
    assert accounts.upn_warning('LocalSystem', None) is None


@pytest.mark.parametrize(
    'account, password, expected',
    [
        # Built-ins: an empty password (not null), by the name Windows shows (Win32_Service.Change's remarks).
        ('localsystem', None, {'StartName': 'LocalSystem', 'StartPassword': ''}),
        ('NT AUTHORITY\\Network Service', None, {'StartName': 'NT AUTHORITY\\NetworkService', 'StartPassword': ''}),
        # Managed and virtual accounts: null (ChangeServiceConfigW: lpPassword must be NULL).
        ('XPGO\\gmsa-xprotect$', None, {'StartName': 'XPGO\\gmsa-xprotect$', 'StartPassword': None}),
        ('NT SERVICE\\Milestone Image Server', None, {'StartName': 'NT SERVICE\\Milestone Image Server', 'StartPassword': None}),
        # Users: the password given, or null (the stored one stays).
        ('.\\xpgo-svc', 'S3cret!', {'StartName': '.\\xpgo-svc', 'StartPassword': 'S3cret!'}),
        (' XPGO\\svc ', None, {'StartName': 'XPGO\\svc', 'StartPassword': None}),
    ],
)
def test_what_change_is_given(account, password, expected):
    assert accounts.change_parameters(account, password) == expected


@pytest.mark.parametrize(
    'account, password, message',
    [
        (None, 'x', 'account_password needs account'),
        ('svc-user', None, "account 'svc-user' has no domain"),
        ('', None, 'is not an account name'),
        ('XPGO\\a*b', None, 'is not an account name'),
        ('XPGO\\' + 'x' * 300, None, 'is not an account name'),
        ('LocalSystem', 'x', 'has no password Windows could check (a built-in account): remove account_password'),
        ('XPGO\\gmsa$', 'x', 'a managed account'),
        ('NT SERVICE\\Milestone Image Server', 'x', 'a virtual account'),
    ],
)
def test_refused_before_anything_is_sent(account, password, message):
    with pytest.raises(XProtectError) as error:
        accounts.validate(account, password)
    assert message in error.value.message and error.value.kind == 'invalid'
    assert 'x' * 300 not in error.value.message or password is None


@pytest.mark.parametrize(
    'account, password',
    [
        (None, None),
        ('LocalSystem', None),
        ('XPGO\\svc', 'pw'),
        ('svc@xpgo.example', 'pw'),
        ('.\\xpgo-svc', None),
        ('XPGO\\g$', None),
    ],
)
def test_accepted(account, password):
    accounts.validate(account, password)
