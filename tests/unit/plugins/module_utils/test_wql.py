# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WQL pieces: injection attempts are refused, real service names are quoted exactly."""

from __future__ import annotations

import re

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _wql
from ansible_collections.xprotect.go.plugins.module_utils._wql import build_or, like_contains, like_escape, quote, validate_service_name
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

VALID = ['Milestone XProtect Recording Server', 'MilestoneEventServerService', 'MSSQL$SQLEXPRESS', 'RpcSs', 'W32Time',
         'Milestone Image Import Service', 'Service (x86)', 'a', 'svc_name.exe', 'A#B@C+D-E', '9' * 256]
INJECTIONS = ["' OR Name LIKE '%", "x' OR '1'='1", "Spooler'", 'Spo"oler', 'back\\slash', 'Spool%', '%', '_Spooler',
              'Spo[o]ler', 'line\nbreak', 'Spooler\n', 'tab\tname', '', ' leading space', 'x' * 257, 'x' * 300, 'semi;colon',
              'WinRM\x00', 'Ünïcode', None, 42, b'Spooler']


@pytest.mark.parametrize('name', VALID)
def test_valid_names_are_quoted_exactly(name):
    assert validate_service_name(name) == name
    assert quote(name) == "'%s'" % name


@pytest.mark.parametrize('name', INJECTIONS, ids=repr)
def test_injection_attempts_are_rejected(name):
    for function in (validate_service_name, quote, like_escape, lambda value: build_or('Name', ['RpcSs', value]),
                     lambda value: like_contains('PathName', value)):
        with pytest.raises(XProtectError) as caught:
            function(name)
        assert caught.value.kind == 'invalid'
        assert repr(name) in str(caught.value)
        assert 'letters, digits, space and _ . ( ) $ # @ + -' in str(caught.value)


def test_build_or():
    assert build_or('Name', ['Milestone Image Server', 'MSSQL$SQLEXPRESS']) == \
        "Name = 'Milestone Image Server' OR Name = 'MSSQL$SQLEXPRESS'"
    assert build_or('DisplayName', iter(['Milestone Event Server'])) == "DisplayName = 'Milestone Event Server'"


def test_like_contains_escapes_wildcards():
    assert like_contains('PathName', 'RecordingServer.exe') == "PathName LIKE '%RecordingServer.exe%'"
    # '_' is a LIKE wildcard: it must match only itself.
    assert like_contains('PathName', 'Image_Server.exe') == "PathName LIKE '%Image[_]Server.exe%'"
    assert like_escape('a_b_c') == 'a[_]b[_]c'


@pytest.mark.parametrize('field', ['Name OR 1=1', 'name ', 'ProcessId; --', '', None, 'Caption'])
def test_fields_come_from_an_allow_list(field):
    for function in (lambda f: build_or(f, ['RpcSs']), lambda f: like_contains(f, 'RpcSs')):
        with pytest.raises(XProtectError) as caught:
            function(field)
        assert caught.value.kind == 'invalid'
        assert repr(field) in str(caught.value)


def test_build_or_needs_values():
    with pytest.raises(XProtectError) as caught:
        build_or('Name', [])
    assert caught.value.kind == 'invalid'


def test_quote_escapes_even_if_validation_were_loosened(monkeypatch):
    monkeypatch.setattr(_wql, 'SERVICE_NAME', re.compile(r'.+', re.S))
    assert quote("a'b\\c") == "'a\\'b\\\\c'"
    assert like_contains('Name', "50%_[x]'") == "Name LIKE '%50[%][_][[]x]\\'%'"
