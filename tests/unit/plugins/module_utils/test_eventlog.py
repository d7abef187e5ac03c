# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Service Control Manager's events, read as Windows writes them: the query, the times, the texts, the matching."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _eventlog as eventlog
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wql import MAX_WQL_CHARS

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
RS = 'Milestone XProtect Recording Server'
# Windows' Message: the netevent.mc texts formatted, over several lines (CRLF), a 7000's %2 resolved.
MESSAGE_7000 = 'The %s service failed to start due to the following error: \r\nThe service did not start due to a logon failure.' % RS
MESSAGE_7038 = (
    'The %s service was unable to log on as .\\xpgo-svc with the currently configured password due to the following '
    'error: \r\nThe user name or password is incorrect.\r\n\r\nTo ensure that the service is configured properly, use '
    'the Services snap-in in Microsoft Management Console (MMC).' % RS
)


def record(code, strings, message, when='2024-05-01T11:59:30.5Z', number=1200):
    """A Win32_NTLogEvent projection as _wsman_xml parses it: strings, a one-element array as a plain string."""
    return {
        'EventCode': str(code),
        'InsertionStrings': strings,
        'Logfile': 'System',
        'Message': message,
        'RecordNumber': str(number),
        'SourceName': 'Service Control Manager',
        'TimeGenerated': when,
        'Type': 'Error',
    }


def test_the_query_is_bounded_filtered_and_short():
    query = eventlog.failure_query(NOW - datetime.timedelta(minutes=60))
    assert query.startswith(
        'SELECT EventCode, InsertionStrings, Logfile, Message, RecordNumber, SourceName, TimeGenerated, Type FROM Win32_NTLogEvent WHERE '
    )
    assert "Logfile = 'System' AND SourceName = 'Service Control Manager' AND TimeGenerated >= '20240501110000.000000+000'" in query
    # WQL has no IN: every event code ORed, in parentheses.
    assert '(EventCode = 7000 OR EventCode = 7009 OR ' in query and query.endswith('EventCode = 7041)')
    assert ' IN ' not in query and len(query) < MAX_WQL_CHARS


@pytest.mark.parametrize(
    'text, expected',
    [
        ('2014-04-03T14:45:50.46875+08:00', datetime.datetime(2014, 4, 3, 6, 45, 50, 468750, tzinfo=UTC)),  # WinRM's xs:dateTime
        ('2024-05-01T12:00:00Z', datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ('2024-05-01T12:00:00.123456789Z', datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ('2024-05-01T12:00:00', datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ('20240501140000.000000+120', datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),  # a DMTF string
        ('20240501100000.000000-120', datetime.datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_times_as_winrm_writes_them(text, expected):
    assert eventlog.parse_time(text) == expected


@pytest.mark.parametrize('text', [None, '', 'yesterday', '2024-13-01T00:00:00Z', '20241301000000.000000+000'])
def test_times_that_are_none_are_none(text):
    assert eventlog.parse_time(text) is None


def test_dmtf_and_iso_are_in_utc():
    local = datetime.datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert eventlog.dmtf(local) == '20240501120000.000005+000'
    assert eventlog.iso(local) == '2024-05-01T12:00:00Z'


def test_an_event_in_the_collections_words():
    event = eventlog.parse([record(7000, [RS, '%%1069'], MESSAGE_7000)])[0]
    assert event.event_id == 7000 and event.service == RS
    assert event.facts() == {
        'event_id': 7000,
        'time': '2024-05-01T11:59:30Z',
        'message': 'The %s service failed to start due to the following error: The service did not start due to a logon failure.' % RS,
    }
    assert event.quote().startswith('Windows logged at 2024-05-01T11:59:30Z (event 7000): The %s service failed' % RS)


def test_7009_names_the_service_second_and_one_insertion_string_may_come_alone():
    timeout = eventlog.parse(
        [record(7009, ['30000', RS], 'A timeout was reached (30000 milliseconds) while waiting for the %s service to connect.' % RS)]
    )[0]
    assert timeout.service == RS
    # A one-element array comes from the XML as a plain string.
    hung = eventlog.parse([record(7022, RS, 'The %s service hung on starting.' % RS)])[0]
    assert hung.strings == [RS] and hung.about([RS])


def test_other_sources_events_and_codes_are_not_failures():
    assert eventlog.parse([record(7036, [RS, 'stopped'], 'The %s service entered the stopped state.' % RS), 'junk']) == []


def test_an_empty_message_is_told_from_the_insertion_strings():
    event = eventlog.parse([record(7034, [RS, '3'], None)])[0]
    assert event.message == 'event 7034 of the Service Control Manager (%s; 3)' % RS


def test_the_latest_failure_of_a_service_whatever_order_windows_sent():
    records = [
        record(7034, ['Milestone Image Server', '1'], 'x', '2024-05-01T11:59:50Z', 1203),
        record(7031, [RS, '1', '60000', '1', 'Restart the service'], 'crash', '2024-05-01T10:00:00Z', 1201),
        record(7023, [RS, '%%2'], 'newer', '2024-05-01T11:00:00Z', 1202),
    ]
    events = eventlog.parse(records)
    assert [event.record_number for event in events] == [1203, 1202, 1201]
    assert eventlog.last_failure(events, [RS]).event_id == 7023
    assert eventlog.last_failure(events, ['milestone image server']).event_id == 7034, 'names compare without case'
    assert eventlog.last_failure(events, ['Spooler']) is None


def test_a_7000_after_a_log_on_failure_is_explained_by_the_log_on_failure():
    events = eventlog.parse(
        [
            record(7038, [RS, '.\\xpgo-svc', '%%1326'], MESSAGE_7038, '2024-05-01T11:59:30Z', 1300),
            record(7000, [RS, '%%1069'], MESSAGE_7000, '2024-05-01T11:59:30Z', 1301),
        ]
    )
    failure = eventlog.last_failure(events, [RS])
    assert failure.event_id == 7038 and 'The user name or password is incorrect.' in failure.message
    # Long past: the 7000 is its own failure.
    events = eventlog.parse(
        [
            record(7038, [RS, '.\\xpgo-svc', '%%1326'], MESSAGE_7038, '2024-05-01T09:00:00Z', 1300),
            record(7000, [RS, '%%1069'], MESSAGE_7000, '2024-05-01T11:59:30Z', 1301),
        ]
    )
    assert eventlog.last_failure(events, [RS]).event_id == 7000


def test_a_message_quotes_at_most_so_much_of_windows_text():
    event = eventlog.parse([record(7023, [RS, 'x'], 'The %s service terminated with the following error: %s' % (RS, 'y' * 2000))])[0]
    assert len(event.facts()['message']) == eventlog.MAX_QUOTE and event.facts()['message'].endswith('...')


class Services:
    """failure_events as HostServices answers: records, or an error."""

    def __init__(self, records=(), error=None):
        self.records, self.error, self.queries = list(records), error, []

    def failure_events(self, query, limit):
        self.queries.append((query, limit))
        if self.error:
            raise self.error
        return self.records[:limit]


def test_a_read_is_one_bounded_query():
    services = Services([record(7034, [RS, '1'], 'crashed')])
    read = eventlog.read_failures(services, 60, NOW)
    assert read.status == 'read' and len(read.events) == 1
    assert services.queries == [(eventlog.failure_query(NOW - datetime.timedelta(minutes=60)), eventlog.MAX_EVENTS)]


def test_without_event_log_readers_the_reason_names_the_right():
    read = eventlog.read_failures(Services(error=XProtectError('access denied (Access is denied.)', kind='access_denied')), 60, NOW)
    assert read.status == 'denied'
    assert read.explain([RS], 60) == eventlog.DENIED and 'Event Log Readers' in eventlog.DENIED


def test_other_errors_are_told_not_raised():
    read = eventlog.read_failures(Services(error=XProtectError('WMI rejected the query: boom', kind='fault')), 60, NOW)
    assert read.status == 'failed'
    assert read.explain([RS], 60) == "Windows' reason could not be read from the System event log (WMI rejected the query: boom)"


def test_no_event_says_where_it_looked():
    text = eventlog.read_failures(Services(), 60, NOW).explain([RS], 60)
    assert 'no Service Control Manager failure event for it in the last 60 minutes' in text and 'Event Log Readers' in text


def report(**states):
    entries = {
        key: {'installed': True, 'name': key, 'display_name': key.replace('_', ' ').title(), 'state': state, 'start_mode': 'auto'}
        for key, state in states.items()
    }
    entries['mobile_server'] = {'installed': False}
    return entries


def test_service_info_reads_only_when_asked_or_when_an_automatic_service_is_down():
    assert eventlog.reason_to_read('auto', report(recording_server='started')) is None
    assert eventlog.reason_to_read('auto', report(recording_server='stopped')) == 'not running: recording_server'
    assert eventlog.reason_to_read('always', report(recording_server='started')) == 'asked'
    assert eventlog.reason_to_read('never', report(recording_server='stopped')) is None
    manual = report(log_check='stopped')
    manual['log_check']['start_mode'] = 'manual'
    assert eventlog.reason_to_read('auto', manual) is None, 'a manual service that is stopped explains itself'


def test_last_failure_for_every_installed_service_from_one_read():
    entries = report(recording_server='stopped', image_server='started')
    services = Services([record(7034, ['Recording Server', '2'], 'The Recording Server service terminated unexpectedly.')])
    event_log, warnings = eventlog.add_last_failures(services, entries, 'auto', 1440, NOW)
    assert len(services.queries) == 1 and warnings == []
    assert event_log == {
        'status': 'read',
        'reason': 'not running: recording_server',
        'since': '2024-04-30T12:00:00Z',
        'lookback_minutes': 1440,
    }
    assert entries['recording_server']['last_failure']['event_id'] == 7034
    assert entries['image_server']['last_failure'] is None and 'last_failure' not in entries['mobile_server']


def test_not_read_and_denied_leave_last_failure_out():
    entries = report(recording_server='started')
    assert eventlog.add_last_failures(Services(), entries, 'auto', 60, NOW) == ({'status': 'not_read', 'lookback_minutes': 60}, [])
    denied = Services(error=XProtectError('denied', kind='access_denied'))
    event_log, warnings = eventlog.add_last_failures(denied, entries, 'always', 60, NOW)
    assert event_log['status'] == 'denied' and 'Event Log Readers' in warnings[0]
    assert 'last_failure' not in entries['recording_server']


@pytest.mark.parametrize('minutes', [0, -5, 527041])
def test_a_look_back_out_of_range_is_refused(minutes):
    with pytest.raises(XProtectError, match='failure_lookback must be between 1 and 527040 minutes') as error:
        eventlog.validate_lookback(minutes)
    assert error.value.kind == 'invalid'
