# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event log's read and the account's change on the wire: a bounded enumeration, WinRM's shapes, a scrubbed secret."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _eventlog as eventlog
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._windows import HostServices
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient

ENVELOPE = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header/><s:Body>%s</s:Body></s:Envelope>'
)
RS = 'Milestone XProtect Recording Server'
XSI = 'http://www.w3.org/2001/XMLSchema-instance'


def fragment(number, code, strings, message, when):
    """A projected Win32_NTLogEvent as WinRM writes it: unqualified children, arrays repeated, datetimes in a wrapper."""
    return (
        '<w:XmlFragment xmlns:xsi="%s"><EventCode>%d</EventCode>%s<Logfile>System</Logfile><Message>%s</Message>'
        '<RecordNumber>%d</RecordNumber><SourceName>Service Control Manager</SourceName>'
        '<TimeGenerated><Datetime>%s</Datetime></TimeGenerated><Type>Error</Type></w:XmlFragment>'
        % (XSI, code, ''.join('<InsertionStrings>%s</InsertionStrings>' % s for s in strings), message, number, when)
    )


def page(items, end=True, first=True):
    tag = 'Enumerate' if first else 'Pull'
    items_tag = 'w:Items' if first else 'n:Items'
    tail = '<w:EndOfSequence/>' if end and first else ('<n:EndOfSequence/>' if end else '')
    context = '' if end else 'uuid:more'
    return ENVELOPE % (
        '<n:%sResponse><n:EnumerationContext>%s</n:EnumerationContext><%s>%s</%s>%s</n:%sResponse>'
        % (tag, context, items_tag, ''.join(items), items_tag, tail, tag)
    )


def test_events_as_winrm_sends_them_become_last_failures(make_settings, fake_protocol):
    reply = page(
        [
            fragment(
                1301,
                7000,
                [RS, '%%1069'],
                'The %s service failed to start due to the following error: &#xD;\nThe service did not start due to a logon failure.' % RS,
                '2024-05-01T13:59:31.25+02:00',
            ),
            fragment(
                1300,
                7038,
                [RS, '.\\xpgo-svc', '%%1326'],
                'The %s service was unable to log on as .\\xpgo-svc with '
                'the currently configured password due to the following error: &#xD;\nThe user name or password is '
                'incorrect.' % RS,
                '2024-05-01T11:59:30Z',
            ),
        ]
    )
    protocol = fake_protocol([reply])
    services = HostServices(WsmanClient(make_settings(), protocol=protocol), 'h')
    now = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    read = eventlog.read_failures(services, 60, now)
    failure = eventlog.last_failure(read.events, [RS])
    assert failure.event_id == 7038 and failure.facts()['time'] == '2024-05-01T11:59:30Z'
    assert read.events[0].time == datetime.datetime(2024, 5, 1, 11, 59, 31, 250000, tzinfo=datetime.timezone.utc)
    assert 'error: The user name or password is incorrect.' in failure.message, 'one line'
    assert (
        "TimeGenerated &gt;= '20240501110000.000000+000'" in protocol.messages[0]
        or "TimeGenerated >= '20240501110000.000000+000'" in protocol.messages[0]
    )


def test_the_count_is_bounded_without_pulling_on(make_settings, fake_protocol):
    first = page([fragment(n, 7034, [RS, str(n)], 'x', '2024-05-01T11:00:00Z') for n in range(3)], end=False)
    protocol = fake_protocol([first])
    client = WsmanClient(make_settings(), protocol=protocol)
    assert len(client.enumerate('SELECT * FROM Win32_NTLogEvent', limit=2)) == 2
    assert client.round_trips == 1, 'no Pull once the limit is reached'


def test_a_pull_stops_at_the_limit_too(make_settings, fake_protocol):
    first = page([fragment(1, 7034, [RS, '1'], 'x', '2024-05-01T11:00:00Z')], end=False)
    second = page([fragment(n, 7034, [RS, str(n)], 'x', '2024-05-01T11:00:00Z') for n in range(2, 6)], end=False, first=False)
    client = WsmanClient(make_settings(), protocol=fake_protocol([first, second]))
    assert [item['RecordNumber'] for item in client.enumerate('SELECT * FROM Win32_NTLogEvent', limit=3)] == ['1', '2', '3']
    assert client.round_trips == 2


def test_a_secret_a_method_carried_is_scrubbed_from_its_error(make_settings, fake_protocol):
    secret = 'Svc-Pass-2024!'
    client = WsmanClient(make_settings(), protocol=fake_protocol([RuntimeError('the server said: StartPassword=%s rejected' % secret)]))
    with pytest.raises(XProtectError) as error:
        HostServices(client, 'h').change_account('Milestone Image Server', '.\\xpgo-svc', secret)
    assert secret not in str(error.value) and 'StartPassword=********' in str(error.value)


def test_change_on_the_wire_nil_for_what_is_left_alone(make_settings, fake_protocol):
    uri = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'
    reply = ENVELOPE % '<p:Change_OUTPUT xmlns:p="%s"><p:ReturnValue>0</p:ReturnValue></p:Change_OUTPUT>' % uri
    protocol = fake_protocol([reply])
    HostServices(WsmanClient(make_settings(), protocol=protocol), 'h').change_account('Milestone Image Server', 'LocalSystem', None)
    message = protocol.messages[0]
    assert '<p:StartName>LocalSystem</p:StartName><p:StartPassword></p:StartPassword>' in message
    assert message.count('xsi:nil="true"') == 9
