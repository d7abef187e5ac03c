# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults a listener injects at the HTTP level, and the fault WinRM sends when it fails itself.

FaultSettings holds the wire-level faults of one listener (refused or reset connections, delays,
HTTP 500, malformed bodies, endless enumerations, the enumeration context lifetime, answers lost
after the request was carried out); the control endpoint changes them.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any, Callable, Optional
from xml.sax.saxutils import escape, unescape

MALFORMED_KINDS = ('garbage', 'truncated')
GARBAGE_BODY = b'\x00\x1fThis is not XML: the simulated host sent garbage.\xff\xfe'
ENUMERATION_TIMEOUT = 240.0  # WinRM's default EnumerationTimeoutms, in seconds (enumeration.py)
MAX_ENUMERATION_TIMEOUT = 86400.0
MAX_DELAY = 3600
# lose_answer: the request is carried out, then its answer is lost in one of these ways.
LOSE_HOW = ('reset', 'hold', 'garble')
# The requests whose answer can be lost, by their action's last segment (as the stats count them).
LOSABLE_ACTIONS = (
    'StartService',
    'StopService',
    'ChangeStartMode',
    'SetDWORDValue',
    'GetDWORDValue',
    'Enumerate',
    'Pull',
    'Get',
    'Release',
)
LOSE_ANSWER_KEYS = ('method', 'how', 'times', 'hold_seconds', 'service')
DEFAULT_HOLD_SECONDS = 60.0
MAX_TIMES = 1000000

FAULT_NAMESPACES = (
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" '
    'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"'
)
INTERNAL_ERROR_REASON = (
    'The WS-Management service cannot process the request. The maximum number of concurrent operations '
    'for this user has been exceeded. Close existing operations for this user, or raise the quota for this user.'
)
INTERNAL_ERROR_MESSAGE = (
    'The WS-Management service cannot process the request. This user is allowed a maximum number of 15 '
    'concurrent operations, which has been exceeded. Close existing operations for this user, or raise '
    'the quota for this user.'
)


def _fault_property(name):
    def getter(self):
        return self.as_dict()[name]

    def setter(self, value):
        self.update(**{name: value})

    return property(getter, setter)


class FaultSettings:
    """Wire-level faults of one listener; changes apply to the next request (refuse: at once)."""

    DEFAULTS: dict[str, Any] = {
        'refuse': False,
        'reset': False,
        'delay': 0.0,
        'http_500': False,
        'malformed': None,
        'endless_enumeration': False,
        'enumeration_timeout': ENUMERATION_TIMEOUT,
        'lose_answer': None,
    }

    refuse = _fault_property('refuse')
    reset = _fault_property('reset')
    delay = _fault_property('delay')
    http_500 = _fault_property('http_500')
    malformed = _fault_property('malformed')
    endless_enumeration = _fault_property('endless_enumeration')
    enumeration_timeout = _fault_property('enumeration_timeout')
    lose_answer = _fault_property('lose_answer')

    def __init__(self, on_change: Optional[Callable[[list[str]], Any]] = None) -> None:
        self._lock = threading.Lock()
        self._values = dict(self.DEFAULTS)
        self._on_change = on_change

    @staticmethod
    def _validate(name, value):
        if name not in FaultSettings.DEFAULTS:
            raise ValueError('unknown fault %r; known: %s' % (name, ', '.join(FaultSettings.DEFAULTS)))
        if name == 'lose_answer':
            return _lose_answer(value)
        if name in ('delay', 'enumeration_timeout'):
            highest = MAX_DELAY if name == 'delay' else MAX_ENUMERATION_TIMEOUT
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= highest:
                raise ValueError('%s must be a number of seconds between 0 and %d, not %r' % (name, highest, value))
            return float(value)
        if name == 'malformed':
            if value is not None and value not in MALFORMED_KINDS:
                raise ValueError('malformed must be null, "garbage" or "truncated", not %r' % (value,))
            return value
        if not isinstance(value, bool):
            raise ValueError('%s must be true or false, not %r' % (name, value))
        return value

    def update(self, **changes: Any) -> dict[str, Any]:
        """Set some faults; returns all of them. Unknown names or bad values raise ValueError."""
        checked = {name: self._validate(name, value) for name, value in changes.items()}
        with self._lock:
            changed = [name for name, value in checked.items() if self._values[name] != value]
            self._values.update(checked)
        if changed and self._on_change:
            self._on_change(changed)
        return self.as_dict()

    def clear(self) -> dict[str, Any]:
        return self.update(**self.DEFAULTS)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            values = dict(self._values)
        if values['lose_answer'] is not None:
            values['lose_answer'] = dict(values['lose_answer'])
        return values

    def take_lost_answer(self, action: str, service: Optional[str] = None) -> Optional[dict[str, Any]]:
        """For a request just carried out: the lose_answer fault (a copy) if it takes this answer, else None.

        Each answer taken counts against `times`; the last one clears the fault.
        """
        with self._lock:
            lose = self._values['lose_answer']
            if lose is None or lose['method'] != action:
                return None
            if lose['service'] is not None and (service or '').lower() != lose['service'].lower():
                return None
            taken = dict(lose)
            lose['times'] -= 1
            if not lose['times']:
                self._values['lose_answer'] = None
        return taken


def _hold_seconds(value):
    # NaN fails both comparisons, so it is refused too.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_DELAY:
        raise ValueError('lose_answer.hold_seconds must be a number of seconds above 0 and at most %d, not %r' % (MAX_DELAY, value))
    return float(value)


def _lose_answer(value):
    """lose_answer: null, or {method, how, times (1), hold_seconds (hold only, 60), service (null: any)}."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError('lose_answer must be null or an object {"method", "how", "times", "hold_seconds", "service"}, not %r' % (value,))
    unknown = sorted(set(value) - set(LOSE_ANSWER_KEYS))
    if unknown:
        raise ValueError('lose_answer has unknown keys %s; known: %s' % (', '.join(map(repr, unknown)), ', '.join(LOSE_ANSWER_KEYS)))
    method = value.get('method')
    if method not in LOSABLE_ACTIONS:
        raise ValueError('lose_answer.method must be one of %s, not %r' % (', '.join(LOSABLE_ACTIONS), method))
    how = value.get('how')
    if how not in LOSE_HOW:
        raise ValueError('lose_answer.how must be one of %s, not %r' % (', '.join(LOSE_HOW), how))
    times = value.get('times', 1)
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES:
        raise ValueError('lose_answer.times must be a whole number from 1 to %d, not %r' % (MAX_TIMES, times))
    hold_seconds = value.get('hold_seconds')
    if how == 'hold':
        hold_seconds = _hold_seconds(DEFAULT_HOLD_SECONDS if hold_seconds is None else hold_seconds)
    elif hold_seconds is not None:
        raise ValueError('lose_answer.hold_seconds applies only to how "hold", not %r' % (how,))
    service = value.get('service')
    if service is not None and (not isinstance(service, str) or not service.strip()):
        raise ValueError('lose_answer.service must be a service name or null, not %r' % (service,))
    return {'method': method, 'how': how, 'times': times, 'hold_seconds': hold_seconds, 'service': service}


def soap_text(message: bytes) -> str:
    """A SOAP message's text, UTF-8 or UTF-16 (with or without BOM)."""
    if message[:2] in (b'\xff\xfe', b'\xfe\xff') or b'\x00' in message[:4]:
        return message.decode('utf-16', errors='replace')
    return message.decode('utf-8', errors='replace')


def header_value(text: str, local_name: str) -> Optional[str]:
    """The text of the first element named local_name (any prefix), or None: enough to read Action and MessageID."""
    match = re.search(r'<(?:[\w.-]+:)?%s\b[^>]*>\s*([^<]*?)\s*</' % local_name, text)
    return match.group(1) if match else None


def request_service(text: str) -> Optional[str]:
    """The service a request is about: its selector Name (Win32_Service), else the last part of sSubKeyName (StdRegProv)."""
    match = re.search(r'<(?:[\w.-]+:)?Selector\b[^>]*\bName\s*=\s*["\']Name["\'][^>]*>\s*([^<]*?)\s*</', text)
    if match is None:
        match = re.search(r'<(?:[\w.-]+:)?sSubKeyName\b[^>]*>\s*(?:[^<]*\\)?([^<\\]*?)\s*</', text)
    return unescape(match.group(1), {'&quot;': '"', '&apos;': "'"}) if match else None


def internal_error_fault(machine: str, relates_to: Optional[str]) -> bytes:
    """The w:InternalError fault Windows sends when the WinRM service itself fails (HTTP 500)."""
    relates = '<a:RelatesTo>%s</a:RelatesTo>' % escape(relates_to) if relates_to else ''
    return (
        '<s:Envelope xml:lang="en-US" %s><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>'
        '<a:MessageID>uuid:%s</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>%s'
        '</s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value>'
        '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail>'
        '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150859174" Machine="%s">'
        '<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>'
        % (
            FAULT_NAMESPACES,
            str(uuid.uuid4()).upper(),
            relates,
            INTERNAL_ERROR_REASON,
            escape(machine, {'"': '&quot;'}),
            INTERNAL_ERROR_MESSAGE,
        )
    ).encode('utf-8')
