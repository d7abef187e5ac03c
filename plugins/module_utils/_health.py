# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Health: one verdict per host that puts recording first, from rules kept as data beside the catalog.

This is private to the collection: its interface may change without notice.

RULES say, per catalog service, what a service's facts (as service_info reports them) mean for
recording; host_verdict() applies them and the worst verdict wins. UNREADABLE_RULES say what a host
that could not be read is. docs/health.md has every rule as one row of one table (a unit test holds
the table and this data together): change both together.
"""

from __future__ import annotations

import datetime
import typing as t
from dataclasses import dataclass, field

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors

NOT_RECORDING = 'not_recording'
UNKNOWN = 'unknown'
UNREACHABLE = 'unreachable'
DEGRADED = 'degraded'
RECORDING = 'recording'
# Every verdict, worst first: a host's verdict is the first of these that one of its reasons implies.
# unknown (the host answered but what matters could not be read) and unreachable (no answer) rank
# above degraded: whether such a host records is not known, and it may not.
VERDICTS = (NOT_RECORDING, UNKNOWN, UNREACHABLE, DEGRADED, RECORDING)

# The names a log-on account of Local System goes by in Win32_Service StartName.
LOCAL_SYSTEM_ACCOUNTS = ('localsystem', '.\\localsystem', 'nt authority\\system', 'system')
# How far back an unexpected end of a service (last_failure) still makes a host degraded.
RECENT_FAILURE_WINDOW = datetime.timedelta(hours=24)
# The Service Control Manager's events (System log) of a service that terminated unexpectedly: 7031 (with a
# recovery action to follow), 7034 (without). Other failures it logs (7000 failed to start, 7038 could not log on,
# ...) are not crashes.
CRASH_EVENTS = (7031, 7034)
# States in which a service runs no code of its job ('start_pending': not yet).
NOT_RUNNING = ('stopped', 'stop_pending', 'paused', 'pause_pending', 'continue_pending')
OTHER_KEYS = tuple(key for key in catalog.SERVICE_KEYS if key != 'recording_server')

# What the host goes without while a service other than the Recording Server is down (after the manual).
WITHOUT = {
    'image_server': 'Smart Client users cannot log in',
    'image_import': 'pre- and post-alarm images are not fetched from the cameras',
    'log_check': 'the log files are not checked for integrity',
    'event_server': 'alarms, maps, events and status information are not handled',
    'mobile_server': 'mobile devices and web browsers cannot reach the Recording Server',
}


@dataclass(frozen=True)
class Rule:
    """One health rule: when a service's facts meet `when`, the host is at most as well as `verdict`.

    when: {fact: values it may have} (every fact one of its values; a fact the entry lacks never
    matches), or the name of a predicate in PREDICATES. text: the reason, a str.format template over
    _text_fields(). why: the manual's words (or ours, said so) behind the rule. warning: the reason's
    text is also one of service_info's warnings (the ones it has always given).
    """

    id: str
    verdict: str
    services: tuple
    when: t.Union[dict, str]
    text: str
    why: str
    warning: bool = field(default=False)


VITAL = 'The manual: the Recording Server is vital, video streams reach the system only while it runs.'

RULES = (
    Rule(
        'recording_server_not_installed',
        NOT_RECORDING,
        ('recording_server',),
        {'installed': (False,)},
        'The Recording Server is not installed: this host records nothing.',
        VITAL + ' Every installation, Standard or Custom, has one; without it nothing is recorded here.',
    ),
    Rule(
        'recording_server_starting',
        NOT_RECORDING,
        ('recording_server',),
        {'state': ('start_pending',)},
        'The Recording Server service is start_pending: it is starting, and no video reaches the system until it runs.',
        VITAL + ' Starting is not running yet.',
        warning=True,
    ),
    Rule(
        'recording_server_not_running',
        NOT_RECORDING,
        ('recording_server',),
        {'state': NOT_RUNNING},
        'The Recording Server service is {state}: no video reaches the system until it runs.',
        VITAL,
        warning=True,
    ),
    Rule(
        'recording_server_state_unknown',
        UNKNOWN,
        ('recording_server',),
        {'state': ('unknown',)},
        "Windows reports the Recording Server service's state as {windows_state}: whether video reaches the system cannot be told.",
        VITAL + ' Its state is all that tells whether it runs; we do not guess.',
        warning=True,
    ),
    Rule(
        'recording_server_not_automatic',
        DEGRADED,
        ('recording_server',),
        {'start_mode': ('manual', 'disabled')},
        "The Recording Server service's start mode is {start_mode}, not automatic: after the host restarts it stays "
        'stopped, and nothing is recorded until someone starts it.',
        VITAL + ' Windows starts a service at boot only when its start mode is Automatic (auto or delayed).',
    ),
    Rule(
        'service_down',
        DEGRADED,
        OTHER_KEYS,
        {'state': NOT_RUNNING + ('start_pending',)},
        'The {title} service is {state}: the host records, but {without}.',
        'The manual: the Image Server lets Smart Client users log in; Image Import fetches pre-/post-alarm images '
        "from cameras; Log Check checks the log files' integrity; the Event Server handles alarms, maps, events and "
        'status information; Mobile connects the Recording Server to mobile devices and web browsers. The Recording '
        'Server records without them.',
    ),
    Rule(
        'image_server_account',
        DEGRADED,
        ('image_server',),
        'not_local_system',
        'The Image Server service logs on as {start_name}, not Local System: Smart Clients on other computers can log '
        "in only by this server's IP address, not its host name.",
        "The manual: if the Image Server's log-on account is not Local System (a domain user, say), Smart Clients "
        "on other computers cannot log in by the server's host name, only by its IP address.",
        warning=True,
    ),
    Rule(
        'recent_failure',
        DEGRADED,
        catalog.SERVICE_KEYS,
        'crashed_recently',
        'The {title} service ended unexpectedly at {failure_time} (Service Control Manager event {event_id}); it is {state} now.',
        'Ours: a service that crashed within the last 24 hours, even if Windows restarted it, may crash again. '
        'Known only from the System event log (events 7031 and 7034): without it this rule cannot fire.',
    ),
)

UNREADABLE_RULES = (
    Rule(
        'host_unreachable',
        UNREACHABLE,
        (),
        {'kind': (errors.UNREACHABLE, errors.TIMEOUT)},
        '{message}',
        'Ours: no connection, or no answer in time. Whether it records is not known; the host itself may be down.',
    ),
    # No condition: every other kind of error (the fallback).
    Rule(
        'host_unreadable',
        UNKNOWN,
        (),
        {},
        '{message}',
        "Ours: the services could not be read (credentials, rights, TLS, a reply that is not WinRM's, bad input), "
        'so whether it records is not known.',
    ),
)

RULES_BY_ID = {rule.id: rule for rule in RULES + UNREADABLE_RULES}


def _not_local_system(entry: dict, now: datetime.datetime) -> bool:
    account = entry.get('start_name')
    return bool(entry.get('installed') and account and account.lower() not in LOCAL_SYSTEM_ACCOUNTS)


def failure_time(failure: t.Any) -> t.Optional[datetime.datetime]:
    """When last_failure happened, from its 'time' (ISO 8601 with a UTC offset, or an aware datetime); else None."""
    when = failure.get('time') if isinstance(failure, dict) else None
    if isinstance(when, str):
        try:
            when = datetime.datetime.fromisoformat(when.strip().replace('Z', '+00:00').replace('z', '+00:00'))
        except ValueError:
            return None
    if not isinstance(when, datetime.datetime) or when.tzinfo is None:
        return None
    return when


def _crashed_recently(entry: dict, now: datetime.datetime) -> bool:
    failure: t.Any = entry.get('last_failure')
    when = failure_time(failure)
    if not entry.get('installed') or when is None or failure.get('event_id') not in CRASH_EVENTS:
        return False
    # A time ahead of ours (the host's clock is fast) is as recent as can be.
    return now - when <= RECENT_FAILURE_WINDOW


PREDICATES: t.Dict[str, t.Callable[[dict, datetime.datetime], bool]] = {
    'not_local_system': _not_local_system,
    'crashed_recently': _crashed_recently,
}


def applies(rule: Rule, facts: dict, now: datetime.datetime) -> bool:
    """Whether the rule's condition holds for these facts (a service's entry, or {'kind': ...})."""
    if isinstance(rule.when, str):
        return PREDICATES[rule.when](facts, now)
    return all(name in facts and facts[name] in values for name, values in rule.when.items())


def _text_fields(key: str, entry: dict) -> dict:
    failure: t.Any = entry.get('last_failure') if isinstance(entry.get('last_failure'), dict) else {}
    fields = {name: entry.get(name) for name in ('state', 'windows_state', 'start_mode', 'start_name')}
    fields.update(
        title=catalog.SERVICES[key]['title'],
        without=WITHOUT.get(key, ''),
        failure_time=failure.get('time'),
        event_id=failure.get('event_id'),
    )
    return fields


def reason(rule: Rule, service: t.Optional[str], text: str) -> dict:
    return {'rule': rule.id, 'service': service, 'verdict': rule.verdict, 'text': text}


def worst(reasons: t.List[dict]) -> str:
    """The worst verdict of the reasons; recording when there are none."""
    return min((item['verdict'] for item in reasons), key=VERDICTS.index, default=RECORDING)


def host_verdict(services: dict, now: t.Optional[datetime.datetime] = None) -> dict:
    """{'verdict', 'reasons'} of a host from service_info's ``services`` ({catalog key: entry}); worst first.

    A catalog key missing from ``services`` counts as not installed. ``now`` (aware) is when
    last_failure times are measured from; by default the current time.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    reasons = []
    for rule in RULES:
        for key in rule.services:
            entry = services.get(key) or {'installed': False}
            if applies(rule, entry, now):
                reasons.append(reason(rule, key, rule.text.format(**_text_fields(key, entry))))
    reasons.sort(key=lambda item: VERDICTS.index(item['verdict']))
    return {'verdict': worst(reasons), 'reasons': reasons}


def warnings(health: dict) -> t.List[str]:
    """service_info's warnings: the texts of the reasons whose rule also warns, in the reasons' order."""
    return [item['text'] for item in health['reasons'] if RULES_BY_ID[item['rule']].warning]


def unreadable(kind: str, message: str) -> dict:
    """{'verdict', 'reasons'} of a host that could not be read, from the XProtectError's kind and message."""
    now = datetime.datetime.now(datetime.timezone.utc)
    rule = next(rule for rule in UNREADABLE_RULES if applies(rule, {'kind': kind}, now))
    return {'verdict': rule.verdict, 'reasons': [reason(rule, None, rule.text.format(message=message))]}


def unreadable_verdict(kind: str) -> str:
    """unreachable for an XProtectError kind of UNREACHABLE or TIMEOUT (no answer), unknown for any other."""
    return unreadable(kind, '')['verdict']
