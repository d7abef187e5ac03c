# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The maintenance switch: files in one directory on the Ansible controller.

This is private to the collection: its interface may change without notice.

A host is under maintenance while the file named after it exists in the directory; the whole
fleet is while the file ``_fleet`` exists. Each file holds a small JSON record (when, why, who).
The stop and restart playbooks set and clear the switch (module xprotect.go.maintenance); the
event source xprotect.go.service_status reads it and marks its events, and the
xprotect.go.keep_recording rulebook never starts a Recording Server under maintenance.
Plain files, so that an operator can also look (``ls``) and act (``rm``) without Ansible.
No Ansible imports: the event source uses this outside of Ansible's plugin loader.
"""

from __future__ import annotations

import datetime
import errno
import getpass
import json
import os
import tempfile
import typing as t
from urllib.parse import quote, unquote

# The variable that names the directory, for the playbooks and the event source alike; then the
# environment variable (as the connection options have theirs); then the default.
DIRECTORY_VARIABLE = 'xprotect_go_maintenance_dir'
DIRECTORY_ENV = 'XPROTECT_GO_MAINTENANCE_DIR'
DEFAULT_DIRECTORY = '~/.ansible/xprotect-go/maintenance'
FLEET = '_fleet'
# A record larger than this is not ours: it is read as "set, no details".
MAX_RECORD = 64 * 1024


class MaintenanceError(Exception):
    """The directory or a switch file cannot be used; the message says which and why."""


def directory_path(directory: t.Optional[str] = None) -> str:
    """The directory, ~ and variables expanded; when None or empty, $XPROTECT_GO_MAINTENANCE_DIR, else the default."""
    directory = directory or os.environ.get(DIRECTORY_ENV) or DEFAULT_DIRECTORY
    return os.path.abspath(os.path.expanduser(os.path.expandvars(directory)))


def file_name(host: t.Optional[str]) -> str:
    """The switch file's name: the host name %-escaped (never a path, never the fleet file), or FLEET for None."""
    if host is None:
        return FLEET
    host = str(host)
    if not host or host in ('.', '..'):
        raise MaintenanceError('%r is not a host name' % host)
    name = quote(host, safe='')
    # A leading '_' or '.' would collide with the fleet file or hide the file: escape it too.
    if name[0] in '_.':
        name = '%%%02X' % ord(name[0]) + name[1:]
    return name


def host_of(name: str) -> t.Optional[str]:
    """The host a switch file is for, or None for the fleet file (the inverse of file_name)."""
    return None if name == FLEET else unquote(name)


def current_user() -> t.Optional[str]:
    """Who sets a switch: the controller's user name, None when it cannot be told."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _read_record(path: str) -> t.Optional[dict]:
    """The record of a switch file; None when there is no such file. A file that is not our JSON still counts as set."""
    try:
        with open(path, 'rb') as stream:
            data = stream.read(MAX_RECORD + 1)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise MaintenanceError('cannot read the maintenance switch %s: %s' % (path, error.strerror)) from None
    try:
        record = json.loads(data.decode('utf-8')) if len(data) <= MAX_RECORD else None
    except ValueError:
        record = None
    return record if isinstance(record, dict) else {}


def read(directory: t.Optional[str], host: t.Optional[str]) -> dict:
    """Whether host is under maintenance: {'active', 'host': record or None, 'fleet': record or None}.

    host None asks about the fleet switch alone.
    """
    path = directory_path(directory)
    fleet = _read_record(os.path.join(path, FLEET))
    own = None if host is None else _read_record(os.path.join(path, file_name(host)))
    return {'active': fleet is not None or own is not None, 'host': own, 'fleet': fleet}


def snapshot(directory: t.Optional[str]) -> t.Tuple[t.Optional[dict], t.Dict[str, dict]]:
    """Every switch at once, for a watcher: (fleet record or None, {host: record}). One directory listing."""
    path = directory_path(directory)
    try:
        names = os.listdir(path)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return None, {}
        raise MaintenanceError('cannot list the maintenance directory %s: %s' % (path, error.strerror)) from None
    fleet = None
    hosts: t.Dict[str, t.Dict[t.Any, t.Any]] = {}
    for name in names:
        if name.startswith('.'):
            continue  # temporary files of a write in progress
        record = _read_record(os.path.join(path, name))
        if record is None:
            continue
        if name == FLEET:
            fleet = record
        else:
            hosts[t.cast(str, host_of(name))] = record
    return fleet, hosts


def set_switch(
    directory: t.Optional[str], host: t.Optional[str], reason: t.Optional[str] = None, by: t.Optional[str] = None, check_mode: bool = False
) -> bool:
    """Turn the host's switch (the fleet's for None) on. Returns whether it was off. Keeps an existing record."""
    path = directory_path(directory)
    target = os.path.join(path, file_name(host))
    if _read_record(target) is not None:
        return False
    if check_mode:
        return True
    record = {'since': _now(), 'reason': reason or None, 'by': by or None}
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix='.', dir=path)
        try:
            with os.fdopen(handle, 'w', encoding='utf-8') as stream:
                json.dump(record, stream, sort_keys=True)
                stream.write('\n')
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise MaintenanceError('cannot write the maintenance switch %s: %s' % (target, error.strerror)) from None
    return True


def clear_switch(directory: t.Optional[str], host: t.Optional[str], check_mode: bool = False) -> bool:
    """Turn the host's switch (the fleet's for None) off. Returns whether it was on."""
    target = os.path.join(directory_path(directory), file_name(host))
    if _read_record(target) is None:
        return False
    if check_mode:
        return True
    try:
        os.unlink(target)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return False
        raise MaintenanceError('cannot remove the maintenance switch %s: %s' % (target, error.strerror)) from None
    return True


def argument_spec() -> dict:
    """The xprotect.go.maintenance module's options (its action plugin validates with the same)."""
    return {
        'state': {'type': 'str', 'choices': ['present', 'absent']},
        'scope': {'type': 'str', 'choices': ['host', 'fleet'], 'default': 'host'},
        'host': {'type': 'str'},
        'reason': {'type': 'str'},
        'directory': {'type': 'path'},
    }


def run(params: dict, by: t.Optional[str] = None, check_mode: bool = False, diff: bool = False) -> dict:
    """The module's whole job: set, clear or only read a switch, and report the host's maintenance.

    params: the module's options, host and directory already filled in (the action plugin takes them
    from inventory_hostname and the xprotect_go_maintenance_dir variable).
    """
    scope, state = params.get('scope') or 'host', params.get('state')
    host = params.get('host')
    if scope == 'host' and not host:
        raise MaintenanceError('scope=host needs the host option (the action plugin fills in inventory_hostname)')
    target = None if scope == 'fleet' else host
    directory = directory_path(params.get('directory'))
    before = read(directory, host)
    changed = False
    if state == 'present':
        changed = set_switch(directory, target, params.get('reason'), by, check_mode)
    elif state == 'absent':
        changed = clear_switch(directory, target, check_mode)
    after = read(directory, host)
    if check_mode and changed:
        after[scope] = {'since': _now(), 'reason': params.get('reason'), 'by': by} if state == 'present' else None
        after['active'] = after['host'] is not None or after['fleet'] is not None
    result = {
        'changed': changed,
        'maintenance': after['active'],
        'host_switch': after['host'],
        'fleet_switch': after['fleet'],
        'directory': directory,
    }
    if diff:
        result['diff'] = {
            'before': {'host': before['host'] is not None, 'fleet': before['fleet'] is not None},
            'after': {'host': after['host'] is not None, 'fleet': after['fleet'] is not None},
        }
    return result
