# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Why a service failed, in the Service Control Manager's own words: its events in the System log.

This is private to the collection: its interface may change without notice.

The events are Win32_NTLogEvent instances, read over the same WS-Management channel as everything
else (HostServices.failure_events, one WQL enumeration, bounded in time and count). What they hold:
- Win32_NTLogEvent (learn.microsoft.com/previous-versions/windows/desktop/eventlogprov/win32-ntlogevent):
  Logfile, RecordNumber, EventCode (the low 16 bits of EventIdentifier, what Event Viewer shows),
  SourceName, TimeGenerated (a CIM datetime), Message (the formatted text), InsertionStrings, Type.
- WQL compares a datetime with a DMTF string, yyyymmddHHMMSS.mmmmmmsUUU (UUU: the UTC offset in
  minutes), e.g. ``TimeGenerated >= '20240501000000.000000+000'``. WinRM writes datetimes back as
  xs:dateTime inside cim:Datetime (``2014-04-03T14:45:50.46875+08:00``, as WinRM replies show).
  WQL has no IN: the event codes are ORed.
- The texts (netevent.mc, the same in ReactOS' copy; 7009 reads "A timeout was reached (...)" since
  Vista): %1 is the service's display name, except in 7009/7011 where it is %2 (%1 the milliseconds).
  Windows' Message has them formatted, over several lines; it is made one line here.
- Reading the System log needs membership in Event Log Readers (or administrator); without it
  Windows answers a query on it with access denied (as Win32_NTLogEvent documents for the Security
  log) or, on some versions, with no events. Both are handled: denied says so, none says it may be.
"""

from __future__ import annotations

import datetime
import re
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _specs as specs
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

SYSTEM_LOG = 'System'
SCM_SOURCE = 'Service Control Manager'

# The Service Control Manager's failure events, each with the index of the insertion string naming the
# service (its display name) and what kind of failure it tells of.
FAILURE_EVENTS = {
    7000: (0, 'start'),  # The %1 service failed to start due to the following error: %2
    7009: (1, 'timeout'),  # A timeout was reached (%1 milliseconds) while waiting for the %2 service to connect.
    7011: (1, 'timeout'),  # A timeout (%1 milliseconds) was reached while waiting for a transaction response from the %2 service.
    7022: (0, 'start'),  # The %1 service hung on starting.
    7023: (0, 'exit'),  # The %1 service terminated with the following error: %2
    7024: (0, 'exit'),  # The %1 service terminated with the following service-specific error: %2
    7031: (0, 'crash'),  # The %1 service terminated unexpectedly. It has done this %2 time(s). The following corrective action ...
    7034: (0, 'crash'),  # The %1 service terminated unexpectedly. It has done this %2 time(s).
    7038: (0, 'logon'),  # The %1 service was unable to log on as %2 with the currently configured password due to ...: %3
    7041: (0, 'logon'),  # The %1 service was unable to log on as %2 ... (the "Log on as a service" right is missing)
}
# A 7000 often follows the event that explains it (7038/7041: the log-on; 7009: the timeout): within this
# many seconds the explaining event is the failure's reason.
EXPLAINED_WITHIN = 120
EXPLAINING = (7038, 7041, 7009)

# Bounds of one read: the events of this many minutes at most, and at most this many of them.
MAX_EVENTS = 200
SERVICE_LOOKBACK_MINUTES = 60  # the service module, explaining a start that just failed
# service_info's failure_lookback: its default (24 h, the health rules' window) and range, stated in _specs.
INFO_LOOKBACK_MINUTES = specs.FAILURE_LOOKBACK
FAILURE_LOOKBACK_RANGE = (specs.FAILURE_LOOKBACK_MIN, specs.FAILURE_LOOKBACK_MAX)
MAX_QUOTE = 400  # characters of Windows' text a message quotes

PROPERTIES = ('EventCode', 'InsertionStrings', 'Logfile', 'Message', 'RecordNumber', 'SourceName', 'TimeGenerated', 'Type')

DENIED = (
    'the account may not read the System event log: add it to the Event Log Readers group (or '
    "make it an administrator) to see Windows' reason"
)

_ISO = re.compile(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$', re.IGNORECASE)
_DMTF = re.compile(r'(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\.(\d{6})([+-])(\d{3})$')


def dmtf(when: datetime.datetime) -> str:
    """A CIM datetime for WQL, in UTC: '20240501120000.000000+000'."""
    when = when.astimezone(datetime.timezone.utc)
    return when.strftime('%Y%m%d%H%M%S') + '.%06d+000' % when.microsecond


def parse_time(text: t.Any) -> t.Optional[datetime.datetime]:
    """An aware UTC datetime from WinRM's xs:dateTime or a DMTF string; None when it is neither."""
    text = str(text or '').strip()
    match = _ISO.match(text)
    if match:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        offset = 0 if zone in (None, 'Z', 'z') else _minutes(zone.replace(':', ''))
        micro = int((fraction or '0')[:6].ljust(6, '0'))
    else:
        match = _DMTF.match(text)
        if not match:
            return None
        year, month, day, hour, minute, second, fraction, sign, minutes = match.groups()
        offset, micro = int(minutes) * (-1 if sign == '-' else 1), int(fraction)
    try:
        local = datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micro,
            tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)),
        )
    except ValueError:
        return None
    return local.astimezone(datetime.timezone.utc)


def _minutes(zone):
    sign = -1 if zone[0] == '-' else 1
    return sign * (int(zone[1:3]) * 60 + int(zone[3:5]))


def iso(when: datetime.datetime) -> str:
    """ISO 8601 in UTC to the second: '2024-05-01T12:00:00Z'."""
    return when.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def failure_query(since: datetime.datetime) -> str:
    """The WQL for the SCM's failure events in the System log since then (every service: one query per host)."""
    codes = ' OR '.join('EventCode = %d' % code for code in sorted(FAILURE_EVENTS))
    return "SELECT %s FROM Win32_NTLogEvent WHERE Logfile = '%s' AND SourceName = '%s' AND TimeGenerated >= '%s' AND (%s)" % (
        ', '.join(PROPERTIES),
        SYSTEM_LOG,
        SCM_SOURCE,
        dmtf(since),
        codes,
    )


class ScmEvent:
    """One Service Control Manager failure event, in the collection's vocabulary."""

    def __init__(self, record: dict) -> None:
        self.event_id = _to_int(record.get('EventCode'))
        self.record_number = _to_int(record.get('RecordNumber')) or 0
        self.time = parse_time(record.get('TimeGenerated'))
        strings = record.get('InsertionStrings')
        self.strings = [str(s) for s in strings] if isinstance(strings, list) else ([] if strings is None else [str(strings)])
        index = FAILURE_EVENTS.get(self.event_id, (0, None))[0]
        self.service = self.strings[index] if index < len(self.strings) else None
        self.message = ' '.join(str(record.get('Message') or '').split()) or self._fallback_message()

    def _fallback_message(self):
        # Windows leaves Message empty when it cannot format the text (its message file missing).
        return 'event %s of the Service Control Manager (%s)' % (self.event_id, '; '.join(self.strings) or 'no details')

    def about(self, names: t.Iterable[str]) -> bool:
        """Whether it tells of the service known by any of these names (display name, name), case-insensitively."""
        wanted = {name.lower() for name in names if name}
        if self.service is not None:
            return self.service.lower() in wanted
        return any(('the %s service' % name) in self.message.lower() for name in wanted)

    @property
    def order(self) -> tuple:
        return (self.time or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc), self.record_number)

    def facts(self) -> dict:
        """service_info's last_failure: event_id, time (ISO 8601 UTC), message (Windows' text, one line)."""
        return {
            'event_id': self.event_id,
            'time': iso(self.time) if self.time else None,
            'message': errors.server_text(self.message, limit=MAX_QUOTE),
        }

    def quote(self) -> str:
        when = ' at %s' % iso(self.time) if self.time else ''
        return 'Windows logged%s (event %s): %s' % (when, self.event_id, errors.server_text(self.message, limit=MAX_QUOTE))


def _to_int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def parse(records: t.Iterable[dict]) -> t.List[ScmEvent]:
    """The failure events among the records, newest first (whatever order Windows sent them in)."""
    events = [ScmEvent(record) for record in records if isinstance(record, dict)]
    events = [event for event in events if event.event_id in FAILURE_EVENTS]
    return sorted(events, key=lambda event: event.order, reverse=True)


def last_failure(events: t.List[ScmEvent], names: t.Iterable[str]) -> t.Optional[ScmEvent]:
    """The latest failure of the service known by these names: its newest event, or the event that explains it
    (a 7038/7041 log-on failure or a 7009 timeout logged shortly before the 7000 that followed it)."""
    names = list(names)
    own = [event for event in events if event.about(names)]
    if not own:
        return None
    newest = own[0]
    if newest.event_id == 7000 and newest.time is not None:
        for event in own[1:]:
            if event.time is None or (newest.time - event.time).total_seconds() > EXPLAINED_WITHIN:
                break
            if event.event_id in EXPLAINING:
                return event
    return newest


class FailureRead:
    """What one read of the System log found: events (newest first), or why there are none to show."""

    def __init__(
        self, since: datetime.datetime, events: t.Optional[list] = None, denied: bool = False, error: t.Optional[XProtectError] = None
    ) -> None:
        self.since = since
        self.events = events or []
        self.denied = denied
        self.error = error

    @property
    def status(self) -> str:
        return 'denied' if self.denied else ('failed' if self.error else 'read')

    def explain(self, names: t.Iterable[str], minutes: int) -> str:
        """The sentence a failure message ends with: Windows' reason, or why it is not known."""
        if self.denied:
            return DENIED
        if self.error is not None:
            return "Windows' reason could not be read from the System event log (%s)" % errors.server_text(self.error.message, limit=200)
        event = last_failure(self.events, names)
        if event is None:
            return (
                'the System event log has no Service Control Manager failure event for it in the last %d minutes (by the '
                "controller's clock; an account outside Event Log Readers may be shown none)" % minutes
            )
        return event.quote()


def read_failures(services: t.Any, minutes: int, now: t.Optional[datetime.datetime] = None) -> FailureRead:
    """Read the SCM's failure events of the last `minutes` (one enumeration). Access denied is an answer, not an error;
    other errors are kept in the result for the caller to raise or to mention."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    since = now - datetime.timedelta(minutes=minutes)
    try:
        return FailureRead(since, parse(services.failure_events(failure_query(since), MAX_EVENTS)))
    except XProtectError as error:
        if error.kind == errors.ACCESS_DENIED:
            return FailureRead(since, denied=True)
        return FailureRead(since, error=error)


def validate_lookback(minutes: int) -> None:
    """Refuse a failure_lookback outside its range, before anything is sent. XProtectError(INVALID)."""
    if not FAILURE_LOOKBACK_RANGE[0] <= minutes <= FAILURE_LOOKBACK_RANGE[1]:
        raise XProtectError(
            'failure_lookback must be between %d and %d minutes, got %s' % (FAILURE_LOOKBACK_RANGE + (minutes,)), kind=errors.INVALID
        )


def reason_to_read(mode: str, report: dict) -> t.Optional[str]:
    """Why service_info reads the log (None: it does not): asked ('always'), or ('auto') an installed service that
    Windows should start by itself is not running: there is something to explain."""
    if mode == 'always':
        return 'asked'
    if mode != 'auto':
        return None
    down = [
        key
        for key, entry in report.items()
        if entry.get('installed')
        and entry.get('start_mode') in ('auto', 'delayed')
        and entry.get('state') not in ('started', 'start_pending')
    ]
    return 'not running: %s' % ', '.join(down) if down else None


def add_last_failures(
    services: t.Any, report: dict, mode: str = 'auto', minutes: int = INFO_LOOKBACK_MINUTES, now: t.Optional[datetime.datetime] = None
) -> t.Tuple[dict, t.List[str]]:
    """Give each installed service of service_info's report its last_failure (dict, or None: none in the window) when
    the log is read. Returns (the result's event_log, warnings). One enumeration for every service of the host."""
    validate_lookback(minutes)
    reason = reason_to_read(mode, report)
    if reason is None:
        return {'status': 'not_read', 'lookback_minutes': minutes}, []
    read = read_failures(services, minutes, now)
    event_log = {'status': read.status, 'reason': reason, 'since': iso(read.since), 'lookback_minutes': minutes}
    if read.denied:
        event_log['message'] = DENIED
        return event_log, ['Why services failed is not known: %s.' % DENIED]
    if read.error is not None:
        event_log['message'] = errors.server_text(read.error.message)
        return event_log, ['The System event log could not be read, so why services failed is not known: %s' % event_log['message']]
    for entry in report.values():
        if entry.get('installed'):
            event = last_failure(read.events, (entry.get('display_name'), entry.get('name')))
            entry['last_failure'] = event.facts() if event else None
    return event_log, []
