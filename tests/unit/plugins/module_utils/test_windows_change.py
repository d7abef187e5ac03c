# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Win32_Service.Change as HostServices sends it: eleven parameters, two set; Windows' codes as clear messages."""

from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._windows import CHANGE_PARAMETERS, ControlRefused, HostServices

SECRET = 'Svc-Pass-2024!'


class Client:
    """Answers invoke() with a ReturnValue (or raises), and remembers what it was asked."""

    def __init__(self, code=0, error=None):
        self.code, self.error, self.calls = code, error, []

    def invoke(self, class_name, method, selectors=None, params=None, secrets=()):
        self.calls.append((class_name, method, selectors, params, secrets))
        if self.error:
            raise self.error
        return {'ReturnValue': str(self.code)}


def test_change_sends_every_parameter_in_order_and_only_the_account_set():
    client = Client()
    assert HostServices(client, 'nvr01').change_account('Milestone Image Server', '.\\xpgo-svc', SECRET) == 0
    [(class_name, method, selectors, params, secrets)] = client.calls
    assert (class_name, method, selectors) == ('Win32_Service', 'Change', {'Name': 'Milestone Image Server'})
    assert list(params) == list(CHANGE_PARAMETERS) and len(params) == 11
    assert {k: v for k, v in params.items() if v is not None} == {'StartName': '.\\xpgo-svc', 'StartPassword': SECRET}
    assert secrets == [SECRET], 'the client scrubs it from whatever error comes back'


def test_built_in_accounts_get_an_empty_password_managed_ones_none():
    client = Client()
    HostServices(client, 'h').change_account('s', 'NT AUTHORITY\\SYSTEM', None)
    HostServices(client, 'h').change_account('s', 'XPGO\\gmsa-xprotect$', None)
    assert [(call[3]['StartName'], call[3]['StartPassword']) for call in client.calls] == [
        ('LocalSystem', ''),
        ('XPGO\\gmsa-xprotect$', None),
    ]


@pytest.mark.parametrize(
    'code, kind, words',
    [
        (2, 'access_denied', 'changing the log-on account needs SERVICE_CHANGE_CONFIG'),
        (22, 'service', 'Windows refused the account .\\xpgo-svc (ReturnValue 22, invalid service account): it does not exist'),
        (15, 'service', 'Windows could not log on as .\\xpgo-svc with the given account_password (ReturnValue 15'),
        (21, 'service', 'ReturnValue 21, invalid parameter): a service allowed to interact with the desktop'),
        (8, 'service', 'Change failed: unknown failure (ReturnValue 8)'),
    ],
)
def test_windows_codes_become_clear_messages(code, kind, words):
    with pytest.raises(ControlRefused) as error:
        HostServices(Client(code), 'nvr01').change_account('Milestone Image Server', '.\\xpgo-svc', SECRET)
    assert words in error.value.message and error.value.kind == kind and error.value.return_value == code
    assert str(error.value).startswith("nvr01: service 'Milestone Image Server': ")


def test_an_error_that_quotes_the_password_is_scrubbed():
    client = Client(error=XProtectError('Change failed: fault echoing <p:StartPassword>%s</p:StartPassword>' % SECRET, kind='fault'))
    with pytest.raises(XProtectError) as error:
        HostServices(client, 'h').change_account('s', 'XPGO\\svc', SECRET)
    assert SECRET not in str(error.value) and '********' in str(error.value)


def test_a_refused_start_says_which_return_value():
    class Starter(Client):
        def invoke(self, class_name, method, selectors=None, params=None, secrets=()):
            return {'ReturnValue': '15'}

    with pytest.raises(ControlRefused) as error:
        HostServices(Starter(), 'h').start('s')
    assert error.value.return_value == 15 and 'a wrong account_password' in error.value.message


def test_failure_events_are_one_bounded_enumeration():
    class Enumerator:
        def __init__(self):
            self.calls = []

        def enumerate(self, wql, limit=None):
            self.calls.append((wql, limit))
            return []

    client = Enumerator()
    assert HostServices(client, 'h').failure_events('SELECT ...', 200) == [] and client.calls == [('SELECT ...', 200)]
