# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulated System event log and Win32_Service.Change, driven through WS-Management with a fake clock."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest

from xprotect_go_simulator import soap, wql
from xprotect_go_simulator.host import CIMV2_ALL_URI, SERVICE_URI, SimulatedHost
from xprotect_go_simulator.profiles import IMAGE_SERVER, RECORDING_SERVER

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
SINCE = "TimeGenerated >= '20231114220000.000000+000'"
FAILURES = (
    "SELECT EventCode, InsertionStrings, Message, TimeGenerated FROM Win32_NTLogEvent WHERE Logfile = 'System' AND "
    "SourceName = 'Service Control Manager' AND %s AND (EventCode = 7000 OR EventCode = 7023 OR EventCode = 7031 OR "
    'EventCode = 7034 OR EventCode = 7038 OR EventCode = 7041 OR EventCode = 7009)' % SINCE
)


class FakeClock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(name='clock')
def clock_fixture():
    return FakeClock()


@pytest.fixture(name='host')
def host_fixture(clock):
    return SimulatedHost('xpgo-01', clock=clock)


def method(host, name, service, **params):
    """ReturnValue of a Win32_Service method; a parameter given as None is sent as xsi:nil."""
    arguments = ''.join(
        '<p:%s xsi:nil="true"/>' % key if value is None else '<p:%s>%s</p:%s>' % (key, value, key) for key, value in params.items()
    )
    body = '<p:%s_INPUT xmlns:p="%s" xmlns:xsi="%s">%s</p:%s_INPUT>' % (name, SERVICE_URI, soap.NS_XSI, arguments, name)
    status, reply = host.handle(
        soap.build_request('%s/%s' % (SERVICE_URI, name), SERVICE_URI, body, selectors={'Name': service}), 'xpgo-admin'
    )
    assert status == 200, reply
    return int(ET.fromstring(reply).find('{%s}Body/{%s}%s_OUTPUT/{%s}ReturnValue' % (soap.NS_SOAP, SERVICE_URI, name, SERVICE_URI)).text)


def change(host, service, **params):
    every = dict.fromkeys(
        (
            'DisplayName',
            'PathName',
            'ServiceType',
            'ErrorControl',
            'StartMode',
            'DesktopInteract',
            'StartName',
            'StartPassword',
            'LoadOrderGroup',
            'LoadOrderGroupDependencies',
            'ServiceDependencies',
        )
    )
    every.update(params)
    return method(host, 'Change', service, **every)


def query(host, wql_text):
    """(HTTP status, the items' XML elements) of one Enumerate with a WQL filter."""
    status, reply = host.handle(
        soap.build_request(soap.ACTION_ENUMERATE, CIMV2_ALL_URI, soap.enumerate_body(wql_text, max_elements=100)), 'xpgo-admin'
    )
    root = ET.fromstring(reply)
    items = root.find('.//{%s}Items' % soap.NS_WSMAN)
    return status, (list(items) if items is not None else root)


def events(host):
    status, items = query(host, FAILURES)
    assert status == 200
    result = []
    for item in items:
        fields = {}
        for child in item:
            name = child.tag.rsplit('}', 1)[-1]
            value = child[0].text if len(child) else child.text
            fields.setdefault(name, []).append(value)
        result.append({k: v if k == 'InsertionStrings' else v[0] for k, v in fields.items()})
    return result


def fail_to_start(host, clock, exit_code):
    host.configure(RECORDING_SERVER, State='Stopped', fail_start_exit_code=exit_code)
    assert method(host, 'StartService', RECORDING_SERVER) == 0
    clock.advance(5)
    assert host.snapshot()[RECORDING_SERVER]['State'] == 'Stopped'


@pytest.mark.parametrize(
    'exit_code, codes, text',
    [
        (1067, ['7034'], 'The Milestone XProtect Recording Server service terminated unexpectedly.  It has done this 1 time(s).'),
        (
            1053,
            ['7000', '7009'],
            'The Milestone XProtect Recording Server service failed to start due to the following error: \r\n'
            'The service did not respond to the start or control request in a timely fashion.',
        ),
        (
            2,
            ['7023'],
            'The Milestone XProtect Recording Server service terminated with the following error: \r\n'
            'The system cannot find the file specified.',
        ),
    ],
)
def test_a_failed_start_is_written_as_windows_writes_it(host, clock, exit_code, codes, text):
    fail_to_start(host, clock, exit_code)
    found = events(host)
    assert [event['EventCode'] for event in found] == codes, 'newest first'
    assert found[0]['Message'].replace('\n', '\n') == text
    assert found[0]['InsertionStrings'][0] == RECORDING_SERVER
    assert found[0]['TimeGenerated'] == '2023-11-14T22:13:21.500000Z', 'when it stopped, as xs:dateTime'


def test_a_7000_keeps_the_error_as_a_reference_in_its_insertion_strings(host, clock):
    fail_to_start(host, clock, 1053)
    assert events(host)[0]['InsertionStrings'] == [RECORDING_SERVER, '%%1053']


def test_crashes_count_and_a_recovery_restart_is_7031(host, clock):
    host.configure(IMAGE_SERVER, crash_after_seconds=1)
    clock.advance(2)
    host.configure(IMAGE_SERVER, State='Running', crash_after_seconds=1, recovery_restart_seconds=3)
    clock.advance(1.5)
    found = events(host)
    assert [event['EventCode'] for event in found] == ['7031', '7034']
    assert (
        'It has done this 2 time(s).  The following corrective action will be taken in 3000 milliseconds: Restart the service.'
        in found[0]['Message']
    )
    clock.advance(5)
    assert host.snapshot()[IMAGE_SERVER]['State'] == 'Running', 'the SCM restarted it'


def test_the_query_filters_by_time_and_code(host, clock):
    fail_to_start(host, clock, 1067)
    later = wql.cim_datetime('20231114221400.000000+000')
    assert later is not None
    status, items = query(host, FAILURES.replace(SINCE, "TimeGenerated >= '20231114221400.000000+000'"))
    assert status == 200 and items == []
    # The same moment in another time zone.
    status, items = query(host, FAILURES.replace(SINCE, "TimeGenerated > '20231115001300.000000+120'"))
    assert len(items) == 1
    status, items = query(host, 'SELECT * FROM Win32_NTLogEvent WHERE EventCode = 7036')
    assert items == []


def test_without_event_log_readers_the_system_log_is_access_denied(host, clock):
    fail_to_start(host, clock, 1067)
    host.rights(event_log_readers=False)
    status, fault = query(host, FAILURES)
    assert status == 500
    assert fault.find('.//{%s}Subcode/{%s}Value' % (soap.NS_SOAP, soap.NS_SOAP)).text == 'w:AccessDenied'
    # A query over every log gets the logs it may read: none.
    status, items = query(host, 'SELECT * FROM Win32_NTLogEvent')
    assert status == 200 and items == []
    host.reset()
    assert host.rights() == {'event_log_readers': True}


def test_the_event_log_is_on_the_control_endpoint_oldest_first(host, clock):
    fail_to_start(host, clock, 1053)
    assert [event['EventCode'] for event in host.events] == [7009, 7000]
    assert host.events[0]['TimeGenerated'] == datetime.datetime(2023, 11, 14, 22, 13, 21, 500000, datetime.timezone.utc).isoformat()


@pytest.mark.parametrize(
    'params, code',
    [
        ({'StartName': 'LocalSystem', 'StartPassword': ''}, 0),
        ({'StartName': 'NT AUTHORITY\\NetworkService', 'StartPassword': ''}, 0),
        ({'StartName': '.\\xpgo-svc', 'StartPassword': 'anything'}, 0),  # the password is checked at the next start
        ({'StartName': 'svc-imageserver@xpgo.example', 'StartPassword': 'x'}, 0),  # a UPN of a domain account
        ({'StartName': 'XPGO\\gmsa-xprotect$'}, 0),
        ({'StartName': 'NT SERVICE\\%s' % RECORDING_SERVER}, 0),
        ({'StartName': 'XPGO\\nobody', 'StartPassword': 'x'}, 22),  # no such account
        ({'StartName': 'NT SERVICE\\Spooler'}, 22),  # another service's virtual account
        ({'StartName': 'XPGO\\gmsa-xprotect$', 'StartPassword': 'x'}, 21),  # a managed account takes no password
        ({'StartName': 'NT SERVICE\\%s' % RECORDING_SERVER, 'StartPassword': ''}, 21),
        ({'DisplayName': 'Renamed'}, 1),  # not simulated
    ],
)
def test_change_validates_the_account_as_windows_does(host, params, code):
    assert change(host, RECORDING_SERVER, **params) == code
    expected = params['StartName'] if code == 0 and 'StartName' in params else 'LocalSystem'
    assert host.snapshot()[RECORDING_SERVER]['StartName'] == expected


def test_only_local_system_may_interact_with_the_desktop(host):
    host.configure(IMAGE_SERVER, DesktopInteract=True)
    assert change(host, IMAGE_SERVER, StartName='NT AUTHORITY\\LocalService', StartPassword='') == 21
    assert change(host, IMAGE_SERVER, StartName='.\\LocalSystem', StartPassword='') == 0
    assert host.snapshot()[IMAGE_SERVER]['StartName'] == 'LocalSystem'


def test_a_wrong_password_fails_the_next_start_with_15_7038_and_7000(host, clock):
    assert change(host, RECORDING_SERVER, StartName='.\\xpgo-svc', StartPassword='wrong') == 0
    assert method(host, 'StopService', RECORDING_SERVER) == 0
    clock.advance(5)
    assert method(host, 'StartService', RECORDING_SERVER) == 15
    assert host.snapshot()[RECORDING_SERVER]['State'] == 'Stopped'
    newest, logon = events(host)[:2]
    assert newest['EventCode'] == '7000' and newest['Message'].endswith('The service did not start due to a logon failure.')
    assert logon['EventCode'] == '7038' and logon['InsertionStrings'][1] == '.\\xpgo-svc'
    assert (
        'unable to log on as .\\xpgo-svc with the currently configured password due to the following error: \r\n'
        'The user name or password is incorrect.' in logon['Message']
    )
    # The right password (a password alone may change): it starts.
    assert change(host, RECORDING_SERVER, StartPassword='Svc-Pass-2024!') == 0
    assert method(host, 'StartService', RECORDING_SERVER) == 0


def test_an_account_without_the_right_to_log_on_as_a_service_is_7041(host, clock):
    assert change(host, RECORDING_SERVER, StartName='.\\xpgo-nologon', StartPassword='NoLogon-Pass-2024!') == 0
    assert method(host, 'StopService', RECORDING_SERVER) == 0
    clock.advance(5)
    assert method(host, 'StartService', RECORDING_SERVER) == 15
    assert events(host)[1]['EventCode'] == '7041'


def test_passwords_never_show(host):
    assert change(host, RECORDING_SERVER, StartName='.\\xpgo-svc', StartPassword='Svc-Pass-2024!') == 0
    host.accounts(add={'name': 'XPGO\\new-svc', 'password': 'New-Pass-1!'})
    shown = repr(host.accounts()) + repr(host.snapshot()) + repr(host.events)
    assert 'Pass-' not in shown and {'name': 'XPGO\\new-svc', 'upn': None, 'logon_right': True, 'has_password': True} in host.accounts()
    with pytest.raises(ValueError):
        host.accounts(add={'name': 'no-domain'})
