# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The vocabulary of SimulatedHost.configure() and the checks on its values."""

from __future__ import annotations

PROPERTY_KEYS = frozenset(
    (
        'DisplayName',
        'Description',
        'PathName',
        'State',
        'StartMode',
        'DelayedAutoStart',
        'StartName',
        'AcceptStop',
        'AcceptPause',
        'ServiceType',
        'ErrorControl',
        'DesktopInteract',
        'ExitCode',
    )
)
BEHAVIOUR_KEYS = frozenset(
    (
        'start_seconds',
        'stop_seconds',
        'fail_start_exit_code',
        'stuck',
        'crash_after_seconds',
        'deny_users',
        'depends_on',
        'recovery_restart_seconds',
    )
)
STATES = ('Stopped', 'Start Pending', 'Stop Pending', 'Running', 'Paused')
PENDING_STATES = ('Start Pending', 'Stop Pending')
START_MODES = ('Auto', 'Manual', 'Disabled', 'Boot', 'System')


def validated(changes: dict) -> dict:
    """configure() values checked and normalised; ValueError names the first bad one."""
    values = {}
    for key, value in changes.items():
        if key in ('deny_users', 'depends_on'):
            if isinstance(value, str) or not all(isinstance(item, str) for item in value):
                raise ValueError('%s must be a list of names, not %r' % (key, value))
            value = tuple(value)
        else:
            _check(key, value)
        values[key] = value
    return values


def _check(key, value):
    if key == 'State' and value not in STATES:
        raise ValueError('State must be one of %s, not %r' % (', '.join(STATES), value))
    if key == 'StartMode' and value not in START_MODES:
        raise ValueError('StartMode must be one of %s (as WMI reports it), not %r' % (', '.join(START_MODES), value))
    if key in ('DelayedAutoStart', 'AcceptStop', 'AcceptPause', 'DesktopInteract') and not isinstance(value, bool):
        raise ValueError('%s must be true or false, not %r' % (key, value))
    if key in ('DisplayName', 'StartName', 'ServiceType', 'ErrorControl') and not isinstance(value, str):
        raise ValueError('%s must be a string, not %r' % (key, value))
    if key in ('Description', 'PathName') and value is not None and not isinstance(value, str):
        raise ValueError('%s must be a string or null, not %r' % (key, value))
    if key == 'ExitCode' and not _is_number(value, integer=True):
        raise ValueError('ExitCode must be a non-negative integer, not %r' % (value,))
    if key in ('start_seconds', 'stop_seconds') and not _is_number(value):
        raise ValueError('%s must be a non-negative number of seconds, not %r' % (key, value))
    if key in ('crash_after_seconds', 'recovery_restart_seconds') and value is not None and not _is_number(value):
        raise ValueError('%s must be a non-negative number of seconds or null, not %r' % (key, value))
    if key == 'fail_start_exit_code' and value is not None and not (_is_number(value, integer=True) and value > 0):
        raise ValueError('fail_start_exit_code must be a positive Win32 error code or null, not %r' % (value,))
    if key == 'stuck' and value not in (None,) + PENDING_STATES:
        raise ValueError('stuck must be "Start Pending", "Stop Pending" or null, not %r' % (value,))


def _is_number(value, integer=False):
    allowed = (int,) if integer else (int, float)
    return isinstance(value, allowed) and not isinstance(value, bool) and value >= 0
