# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The XProtect service catalog: what the collection knows about XProtect's Windows services.

This is private to the collection: its interface may change without notice.

The catalog is data. Adding a product version is one entry in PRODUCT_VERSIONS; nothing
else changes. Where each name comes from, and how sure we are of it, is in
docs/service-catalog.md. Matching installed services against the catalog happens in the
order Name, then DisplayName, then the executable in PathName (match_services below).
"""

from __future__ import annotations

import difflib
import ntpath
import re
import typing as t

# The six services of XProtect Go, in catalog order, with the manual's one-line description.
# 'optional' services may be left out by a Custom installation; that is a normal shape.
# 'stage' orders start and stop: lower stages start first and stop last. The Recording Server
# comes first because every other service consumes its video or its configuration.
SERVICES = {
    'recording_server': {
        'title': 'Recording Server',
        'description': 'Vital: video streams reach the system only while it runs.',
        'optional': False,
        'stage': 1,
    },
    'image_server': {
        'title': 'Image Server',
        'description': 'Lets Smart Client users log in. If it does not log on as Local System, Smart Clients on other '
        "computers can log in only by the server's IP address, not its host name.",
        'optional': False,
        'stage': 2,
    },
    'image_import': {
        'title': 'Image Import',
        'description': 'Fetches pre- and post-alarm images from cameras (by e-mail) into the camera databases.',
        'optional': False,
        'stage': 2,
    },
    'log_check': {
        'title': 'Log Check',
        'description': "Checks the integrity of the system's log files.",
        'optional': False,
        'stage': 2,
    },
    'event_server': {
        'title': 'Event Server',
        'description': 'Handles alarms, maps, events and status information.',
        'optional': True,
        'stage': 2,
    },
    'mobile_server': {
        'title': 'Mobile Server',
        'description': 'Connects the Recording Server with mobile devices and web browsers.',
        'optional': True,
        'stage': 2,
    },
}

SERVICE_KEYS = tuple(SERVICES)
CORE_KEYS = tuple(key for key in SERVICE_KEYS if not SERVICES[key]['optional'])
OPTIONAL_KEYS = tuple(key for key in SERVICE_KEYS if SERVICES[key]['optional'])

# Names of service sets a user may give instead of keys.
#   standard: a Standard installation, all six services are expected.
#   custom:   a Custom installation, the core services plus whichever optional ones exist.
#   all:      every catalog service installed on the host.
SERVICE_SETS = ('standard', 'custom', 'all')

# A real service name of a service that is not in the catalog (for example a SQL Server
# instance) starts before the XProtect services and stops after them.
UNCATALOGUED_STAGE = 0

# Known Windows identities per product generation, most likely first. Each value is
# (Name, DisplayName, executable file name); None where nobody has seen the value.
# A Name ending in '*' matches by prefix.
PRODUCT_VERSIONS: t.Tuple[t.Dict[str, t.Any], ...] = (
    {
        'generation': 'XProtect VMS 2016-2025 (Management Server family)',
        'services': {
            'recording_server': (
                'Milestone XProtect Recording Server',
                'Milestone XProtect Recording Server',
                'VideoOS.Recorder.Service.exe',
            ),
            'event_server': ('MilestoneEventServerService', 'Milestone XProtect Event Server', 'VideoOS.Event.Server.exe'),
            'mobile_server': ('Milestone XProtect Mobile Server', 'Milestone XProtect Mobile Server', 'VideoOS.MobileServer.Service.exe'),
        },
    },
    {
        'generation': 'XProtect Go, Essential and Professional 2013-2014 (e-code)',
        'services': {
            'recording_server': ('Milestone Recording Server', 'Milestone Recording Server', 'RecordingServer.exe'),
            'image_server': ('Milestone Image Server', 'Milestone Image Server', 'ImageServer.exe'),
            'image_import': ('Milestone Image Import Service', 'Milestone Image Import Service', 'ImageImportService.exe'),
            'log_check': ('Milestone Log Check Service', 'Milestone Log Check Service', None),
            'event_server': ('MilestoneEventServer*', 'Milestone Event Server', 'VideoOS.Event.Server.exe'),
            'mobile_server': ('Milestone Mobile Service', 'Milestone Mobile Service', None),
        },
    },
)

# How other Milestone services are recognised, so that they are reported (never managed).
MILESTONE_NAME_PREFIX = 'Milestone'
MILESTONE_PATH_MARKERS = ('\\milestone\\', 'videoos.')


def _candidates(key, field):
    """The known values of one field (0 Name, 1 DisplayName, 2 executable) for a key, in order."""
    values = []
    for version in PRODUCT_VERSIONS:
        identity = version['services'].get(key)
        if identity and identity[field] and identity[field] not in values:
            values.append(identity[field])
    return values


def known_names(key: str) -> t.List[str]:
    return _candidates(key, 0)


def known_display_names(key: str) -> t.List[str]:
    return _candidates(key, 1)


def known_executables(key: str) -> t.List[str]:
    return _candidates(key, 2)


def executable_of(path_name: t.Any) -> str:
    """The executable's file name from a Win32_Service PathName (quoted or not, with arguments)."""
    if not path_name:
        return ''
    path = path_name.strip()
    if path.startswith('"'):
        path = path[1:].split('"', 1)[0]
    else:
        lowered = path.lower()
        end = lowered.find('.exe')
        if end != -1:
            path = path[: end + 4]
    return ntpath.basename(path)


def _name_matches(pattern, name):
    pattern, name = pattern.lower(), name.lower()
    if pattern.endswith('*'):
        return name.startswith(pattern[:-1])
    return name == pattern


def is_milestone_service(record: t.Dict[str, t.Any]) -> bool:
    """True for a service that looks like Milestone's, whether the catalog knows it or not."""
    name = (record.get('Name') or '').lower()
    display = (record.get('DisplayName') or '').lower()
    path = (record.get('PathName') or '').lower()
    prefix = MILESTONE_NAME_PREFIX.lower()
    return name.startswith(prefix) or display.startswith(prefix) or any(marker in path for marker in MILESTONE_PATH_MARKERS)


def _identifies(key, record, field):
    """Does the record carry one of the key's known values in this field ('name', 'display_name', 'executable')?"""
    if field == 'name':
        return any(_name_matches(pattern, record['Name']) for pattern in known_names(key))
    if field == 'display_name':
        display = (record.get('DisplayName') or '').lower()
        return any(display == value.lower() for value in known_display_names(key))
    executable = executable_of(record.get('PathName')).lower()
    return any(executable == value.lower() for value in known_executables(key))


def match_services(records: t.Iterable[t.Dict[str, t.Any]], overrides: t.Optional[dict] = None) -> t.Dict[str, t.Dict[str, t.Any]]:
    """Assign installed services (Win32_Service records) to catalog keys. Returns {key: record}.

    records: dicts with at least Name, DisplayName and PathName.
    overrides: {key: Windows service Name} given by the user. An override is authoritative:
    that key matches the named service or nothing.

    The catalog keys are matched in three passes, by Name, then DisplayName, then executable,
    so a service found by its exact Name is never taken by another key's looser match.
    """
    overrides = {key: name.lower() for key, name in (overrides or {}).items()}
    matched = {}
    for key, name in overrides.items():
        for record in records:
            if record['Name'].lower() == name:
                matched[key] = record
    taken = {record['Name'].lower() for record in matched.values()}
    for field in ('name', 'display_name', 'executable'):
        for key in SERVICE_KEYS:
            if key in matched or key in overrides:
                continue
            for record in records:
                if record['Name'].lower() not in taken and _identifies(key, record, field):
                    matched[key] = record
                    taken.add(record['Name'].lower())
                    break
    return matched


def install_type(found_keys: t.Iterable[str]) -> str:
    """'standard' with all six, 'custom' with every core service but not every optional one."""
    found = set(found_keys)
    if not found:
        return 'none'
    if not set(CORE_KEYS) <= found:
        return 'incomplete'
    return 'standard' if set(OPTIONAL_KEYS) <= found else 'custom'


# What a misspelt key looks like once case and separators are set aside: "Recording_Server",
# "image-server" and "LogCheck" all fold to a key's folded form.
_SEPARATORS = re.compile(r'[\s_.\-]+')
# How alike a folded name and a folded key must be to count as a misspelling (difflib's ratio);
# high enough that real Windows service names (Spooler, MSSQLSERVER, EventLog, LanmanServer) never match.
NEAR_KEY_CUTOFF = 0.8


def _fold(text):
    return _SEPARATORS.sub('', text.lower())


def near_keys(text: str) -> t.List[str]:
    """The service keys and set names that ``text`` looks like a misspelling of, best first; [] when none.

    A key or set name itself is not near anything. Matches, in this order: the same letters once
    case and separators are ignored (``Recording_Server``, ``image-server``); the first word of keys
    (``recording``, ``image``); a close spelling of five letters or more (``recordng_server``, ``standart``).
    """
    choices = SERVICE_KEYS + SERVICE_SETS
    if not isinstance(text, str) or text in choices:
        return []
    folded = _fold(text)
    by_fold = {_fold(choice): choice for choice in choices}
    if folded in by_fold:
        return [by_fold[folded]]
    by_word = [key for key in SERVICE_KEYS if key.split('_', maxsplit=1)[0] == folded]
    if by_word:
        return by_word
    if len(folded) < 5:
        return []
    return [by_fold[match] for match in difflib.get_close_matches(folded, list(by_fold), n=3, cutoff=NEAR_KEY_CUTOFF)]
