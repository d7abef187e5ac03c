# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The System event log of one simulated machine: what its Service Control Manager writes when services fail,
and the Win32_NTLogEvent instances WMI shows of it.

Windows behaviours modelled here, and where they come from:
- Win32_NTLogEvent's properties (learn.microsoft.com/previous-versions/windows/desktop/eventlogprov/
  win32-ntlogevent): EventCode is the low 16 bits of EventIdentifier (severity bits 0xC0000000 for errors),
  Type 'Error', Logfile 'System', SourceName 'Service Control Manager'.
- The texts are netevent.mc's (the same in ReactOS' copy); 7009 as Vista and later word it. %1 is the
  service's display name (7009: %2). A 7000's %2 is an unresolved message reference, "%%1069", in
  InsertionStrings, resolved in Message (as event records show: param2 "%%1275").
- When: a service that stops while starting or running with a non-zero exit code (7009+7000 for 1053,
  a timeout; 7031/7034 for 1067, the process ended; 7023 otherwise), a crash while running (7034, or 7031
  with a recovery restart), a log-on failure at StartService (7038 or 7041, then 7000 with 1069).
- Reading the System log needs Event Log Readers (or administrator). Without it (the host's
  event_log_readers switch off) a query naming the System log is answered with access denied, as
  Win32_NTLogEvent documents for the Security log without its privilege; a query over every log gets
  the logs it may read (none here).
"""

from __future__ import annotations

import datetime
import re
import typing as t

from . import soap

if t.TYPE_CHECKING:
    from .services import Service

SYSTEM = 'System'
SCM = 'Service Control Manager'
CLASS = 'Win32_NTLogEvent'
URI = soap.WMI_BASE + 'root/cimv2/' + CLASS
PROPERTIES = tuple(
    sorted(
        (
            'Category',
            'CategoryString',
            'ComputerName',
            'Data',
            'EventCode',
            'EventIdentifier',
            'EventType',
            'InsertionStrings',
            'Logfile',
            'Message',
            'RecordNumber',
            'SourceName',
            'TimeGenerated',
            'TimeWritten',
            'Type',
            'User',
        ),
        key=str.lower,
    )
)
MAX_RECORDS = 10000  # the oldest go first, as in a log that overwrites as needed
FIRST_RECORD = 1200  # a log that has been written to before
SERVICE_CONNECT_TIMEOUT_MS = 30000  # ServicesPipeTimeout's default

TEMPLATES = {
    7000: 'The %1 service failed to start due to the following error: %n%2',
    7009: 'A timeout was reached (%1 milliseconds) while waiting for the %2 service to connect.',
    7023: 'The %1 service terminated with the following error: %n%2',
    7031: 'The %1 service terminated unexpectedly.  It has done this %2 time(s).  The following corrective action will be '
    'taken in %3 milliseconds: %5.',
    7034: 'The %1 service terminated unexpectedly.  It has done this %2 time(s).',
    7038: 'The %1 service was unable to log on as %2 with the currently configured password due to the following error: %n%3'
    '%n%nTo ensure that the service is configured properly, use the Services snap-in in Microsoft Management Console (MMC).',
    7041: 'The %1 service was unable to log on as %2 with the currently configured password due to the following error:%n'
    'Logon failure: the user has not been granted the requested logon type at this computer.%n%nService: %1%n'
    'Domain and account: %2%n%nThis service account does not have the necessary user right "Log on as a service."',
}
# Windows' texts of the Win32 errors the simulated services fail with (FormatMessage, system table).
WIN32_TEXTS: dict[int | None, str] = {
    2: 'The system cannot find the file specified.',
    5: 'Access is denied.',
    1053: 'The service did not respond to the start or control request in a timely fashion.',
    1067: 'The process terminated unexpectedly.',
    1069: 'The service did not start due to a logon failure.',
    1326: 'The user name or password is incorrect.',
    1385: 'Logon failure: the user has not been granted the requested logon type at this computer.',
}
ERROR_SERVICE_REQUEST_TIMEOUT = 1053
ERROR_PROCESS_ABORTED = 1067
ERROR_SERVICE_LOGON_FAILED = 1069
ERROR_LOGON_FAILURE = 1326

_LOGFILE_SYSTEM = re.compile(r"logfile\s*=\s*['\"]system['\"]", re.IGNORECASE)


def win32_text(code: int | None) -> str:
    return WIN32_TEXTS.get(code, 'Unknown error (0x%x)' % code if code is not None else 'Unknown error')


def _format(template, strings):
    def insertion(match):
        index = int(match.group(1)) - 1
        value = strings[index] if index < len(strings) else ''
        # An unresolved message reference (%%1069) reads as the message's text.
        reference = re.fullmatch(r'%%(\d+)', value)
        return win32_text(int(reference.group(1))) if reference else value

    return re.sub(r'%(\d)', insertion, template.replace('%n', '\r\n'))


class EventLog:
    """The System log's records, oldest first; writes take the SCM's clock time (epoch seconds)."""

    def __init__(self, machine: str) -> None:
        self.machine = machine
        self.records: list[dict[str, t.Any]] = []
        self._next = FIRST_RECORD
        self.crashes: dict[str, int] = {}  # service name (lower) -> times it ended unexpectedly ("It has done this N time(s)")

    def write(self, code: int, strings: t.Iterable[str], when: float) -> dict[str, t.Any]:
        """Append one Service Control Manager error event; returns its record."""
        moment = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
        record = {
            'Category': 0,
            'CategoryString': None,
            'ComputerName': self.machine.upper(),
            'Data': [],
            'EventCode': code,
            'EventIdentifier': 0xC0000000 | code,
            'EventType': 1,
            'InsertionStrings': list(strings),
            'Logfile': SYSTEM,
            'Message': _format(TEMPLATES[code], list(strings)),
            'RecordNumber': self._next,
            'SourceName': SCM,
            'TimeGenerated': moment,
            'TimeWritten': moment,
            'Type': 'Error',
            'User': None,
        }
        self._next += 1
        self.records.append(record)
        del self.records[:-MAX_RECORDS]
        return record

    # -- what the SCM writes --------------------------------------------------------------------------

    def start_failed(self, display_name: str, error: int, when: float) -> dict[str, t.Any]:
        """7000, with the Win32 error as an unresolved reference (%%1069)."""
        return self.write(7000, [display_name, '%%%%%d' % error], when)

    def stopped_with_error(
        self, service: Service, exit_code: int, when: float, starting: bool, recovery_ms: float | None = None
    ) -> dict[str, t.Any]:
        """The events of a service that stopped by itself with a non-zero exit code (starting or running)."""
        display = service.config['DisplayName']
        if starting and exit_code == ERROR_SERVICE_REQUEST_TIMEOUT:
            self.write(7009, [str(SERVICE_CONNECT_TIMEOUT_MS), display], when)
            return self.start_failed(display, exit_code, when)
        if exit_code == ERROR_PROCESS_ABORTED:
            count = self.crashes[service.name.lower()] = self.crashes.get(service.name.lower(), 0) + 1
            if recovery_ms is not None:
                return self.write(7031, [display, str(count), str(int(recovery_ms)), '1', 'Restart the service'], when)
            return self.write(7034, [display, str(count)], when)
        return self.write(7023, [display, '%%%%%d' % exit_code], when)

    def logon_failed(self, service: Service, account: str, error: int, when: float) -> dict[str, t.Any]:
        """A log-on failure at start: 7038 (or 7041 without the right to log on as a service), then 7000 (1069)."""
        display = service.config['DisplayName']
        if error == 1385:
            self.write(7041, [display, account], when)
        else:
            self.write(7038, [display, account, '%%%%%d' % error], when)
        return self.start_failed(display, ERROR_SERVICE_LOGON_FAILED, when)

    # -- what WMI shows --------------------------------------------------------------------------------

    def rows(self) -> list[dict[str, t.Any]]:
        """Every record as Win32_NTLogEvent properties, newest first (as the event log provider reads)."""
        return [dict(record) for record in reversed(self.records)]

    def snapshot(self) -> list[dict[str, t.Any]]:
        """The records as JSON-able dicts (the control endpoint), oldest first."""
        return [
            dict(record, TimeGenerated=record['TimeGenerated'].isoformat(), TimeWritten=record['TimeWritten'].isoformat())
            for record in self.records
        ]


def denies(query_text: str | None) -> bool:
    """Whether a query an account outside Event Log Readers sends gets access denied: it names the System log."""
    return bool(_LOGFILE_SYSTEM.search(query_text or ''))


def access_denied(query_text: str | None) -> soap.Fault:
    """The fault of a WQL query on a log the account may not read (WMI's WBEM_E_ACCESS_DENIED, as WinRM passes it on)."""
    return soap.Fault(
        'w:AccessDenied',
        5,
        'Access is denied. ',
        provider=soap.WMI_PROVIDER,
        extended_status={'Operation': 'ExecQuery', 'ParameterInfo': query_text, 'ProviderName': 'MS_NT_EVENTLOG_PROVIDER'},
    )
