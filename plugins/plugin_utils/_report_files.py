# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files written on the controller: xprotect.go.fleet_report_files. Private to the collection.

Each file is written beside its target and renamed over it, so a reader (a web server showing the report, a
monitoring job reading the JSON) sees the old file or the new one, never half of one. Plain Python: the unit
tests drive it with temporary directories.
"""

from __future__ import annotations

import os
import tempfile
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError


def parse_mode(mode: str) -> int:
    """The permissions an octal string names ('0644'); anything else is refused before a file is touched."""
    try:
        value = int(str(mode), 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o7777:
        raise XProtectError('mode must be octal permissions such as 0644, got %r' % (mode,), kind=errors.INVALID)
    return value


def check_paths(files: t.Sequence[t.Mapping[str, str]]) -> None:
    """Every path absolute, in an existing directory, not a directory itself: checked for all before any is written."""
    for item in files:
        path = item['path']
        if not os.path.isabs(path):
            raise XProtectError('path must be absolute on the controller, got %r' % (path,), kind=errors.INVALID)
        if not os.path.isdir(os.path.dirname(path)):
            raise XProtectError('the directory of %s does not exist on the controller' % path, kind=errors.INVALID)
        if os.path.isdir(path):
            raise XProtectError('%s is a directory, not a file' % path, kind=errors.INVALID)


def _same(path: str, data: bytes, mode: int) -> bool:
    try:
        with open(path, 'rb') as existing:
            return (os.fstat(existing.fileno()).st_mode & 0o7777) == mode and existing.read() == data
    except FileNotFoundError:
        return False


def _replace(path: str, data: bytes, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_files(files: t.Sequence[t.Mapping[str, str]], mode: str, check_mode: bool) -> t.List[str]:
    """Write each file whose content or mode differs (none in check mode); the paths that changed or would change."""
    permissions = parse_mode(mode)
    check_paths(files)
    changed = []
    for item in files:
        data = item['content'].encode('utf-8')
        if _same(item['path'], data, permissions):
            continue
        if not check_mode:
            try:
                _replace(item['path'], data, permissions)
            except OSError as error:
                raise XProtectError('could not write %s: %s' % (item['path'], error.strerror or error), kind=errors.ERROR) from error
        changed.append(item['path'])
    return changed
