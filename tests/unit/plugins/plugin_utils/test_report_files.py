# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""plugin_utils/_report_files: files replaced whole, only when they differ, bad input refused before any write."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.xprotect.go.plugins.plugin_utils import _report_files as report_files
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError


def test_written_as_utf8_with_the_mode_then_left_alone(tmp_path):
    files = [{'path': str(tmp_path / 'r.html'), 'content': 'Résumé\n'}, {'path': str(tmp_path / 'r.json'), 'content': '{}\n'}]
    assert report_files.write_files(files, '0640', check_mode=False) == [item['path'] for item in files]
    assert (tmp_path / 'r.html').read_bytes() == 'Résumé\n'.encode('utf-8')
    assert stat.S_IMODE((tmp_path / 'r.json').stat().st_mode) == 0o640
    assert report_files.write_files(files, '0640', check_mode=False) == []
    # Another mode is a change too; only the files that differ are named.
    os.chmod(tmp_path / 'r.json', 0o600)
    assert report_files.write_files(files, '0640', check_mode=False) == [str(tmp_path / 'r.json')]
    assert sorted(os.listdir(tmp_path)) == ['r.html', 'r.json'], 'no temporary file left beside them'


def test_check_mode_names_what_would_change_and_writes_nothing(tmp_path):
    (tmp_path / 'r.json').write_text('old\n')
    files = [{'path': str(tmp_path / 'r.json'), 'content': 'new\n'}, {'path': str(tmp_path / 'r.html'), 'content': 'x'}]
    assert report_files.write_files(files, '0644', check_mode=True) == [item['path'] for item in files]
    assert (tmp_path / 'r.json').read_text() == 'old\n' and not (tmp_path / 'r.html').exists()


@pytest.mark.parametrize(
    'path, mode, message',
    [
        ('relative/r.json', '0644', "path must be absolute on the controller, got 'relative/r.json'"),
        ('{tmp}/missing/r.json', '0644', 'the directory of {tmp}/missing/r.json does not exist on the controller'),
        ('{tmp}', '0644', '{tmp} is a directory, not a file'),
        ('{tmp}/r.json', 'rw-r--r--', "mode must be octal permissions such as 0644, got 'rw-r--r--'"),
        ('{tmp}/r.json', '17777', "mode must be octal permissions such as 0644, got '17777'"),
    ],
)
def test_bad_input_is_refused_before_any_file_is_written(tmp_path, path, mode, message):
    first = {'path': str(tmp_path / 'first.json'), 'content': '{}'}
    with pytest.raises(XProtectError) as caught:
        report_files.write_files([first, {'path': path.format(tmp=tmp_path), 'content': ''}], mode, check_mode=False)
    assert str(caught.value) == message.format(tmp=tmp_path) and caught.value.kind == 'invalid'
    assert not (tmp_path / 'first.json').exists()


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / 'r.json'
    target.write_text('old\n')

    def refuse(source, destination):
        raise PermissionError(13, 'Permission denied')

    monkeypatch.setattr(report_files.os, 'replace', refuse)
    with pytest.raises(XProtectError) as caught:
        report_files.write_files([{'path': str(target), 'content': 'new\n'}], '0644', check_mode=False)
    assert str(caught.value) == 'could not write %s: Permission denied' % target
    assert target.read_text() == 'old\n' and os.listdir(tmp_path) == ['r.json']
