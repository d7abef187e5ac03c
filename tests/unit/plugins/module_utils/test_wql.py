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

VALID = [
    'Milestone XProtect Recording Server',
    'MilestoneEventServerService',
    'MSSQL$SQLEXPRESS',
    'RpcSs',
    'W32Time',
    'Milestone Image Import Service',
    'Service (x86)',
    'a',
    'svc_name.exe',
    'A#B@C+D-E',
    '9' * 256,
]
INJECTIONS = [
    "' OR Name LIKE '%",
    "x' OR '1'='1",
    "Spooler'",
    'Spo"oler',
    'back\\slash',
    'Spool%',
    '%',
    '_Spooler',
    'Spo[o]ler',
    'line\nbreak',
    'Spooler\n',
    'tab\tname',
    '',
    ' leading space',
    'x' * 257,
    'x' * 300,
    'semi;colon',
    'WinRM\x00',
    'Ünïcode',
    None,
    42,
    b'Spooler',
]


@pytest.mark.parametrize('name', VALID)
def test_valid_names_are_quoted_exactly(name):
    assert validate_service_name(name) == name
    assert quote(name) == "'%s'" % name


@pytest.mark.parametrize('name', INJECTIONS, ids=repr)
def test_injection_attempts_are_rejected(name):
    for function in (
        validate_service_name,
        quote,
        like_escape,
        lambda value: build_or('Name', ['RpcSs', value]),
        lambda value: like_contains('PathName', value),
    ):
        with pytest.raises(XProtectError) as caught:
            function(name)
        assert caught.value.kind == 'invalid'
        assert repr(name) in str(caught.value)
        assert 'letters, digits, space and _ . ( ) $ # @ + -' in str(caught.value)


def test_build_or():
    assert (
        build_or('Name', ['Milestone Image Server', 'MSSQL$SQLEXPRESS']) == "Name = 'Milestone Image Server' OR Name = 'MSSQL$SQLEXPRESS'"
    )
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


# -- long name lists: several queries, each within Windows' limit ---------------------------------

PREFIX = 'SELECT Name, State FROM Win32_Service WHERE '


def names(count, width=40):
    return ['Service %s %05d' % ('x' * (width - 14), index) for index in range(count)]


def test_a_short_list_is_one_query_like_build_or():
    assert _wql.build_or_chunks('Name', ['A', 'B'], PREFIX) == [PREFIX + build_or('Name', ['A', 'B'])]


@pytest.mark.parametrize('count, width, limit', [(1000, 40, 16384), (5000, 250, 16384), (300, 40, 2000), (37, 20, 300)])
def test_chunks_cover_every_value_once_in_order_within_the_limit(count, width, limit):
    values = names(count, width)
    queries = _wql.build_or_chunks('Name', values, PREFIX, limit=limit)
    assert len(queries) > 1
    assert all(query.startswith(PREFIX) and len(query) <= limit for query in queries)
    found = [re.fullmatch(r"Name = '(.*)'", clause).group(1) for query in queries for clause in query[len(PREFIX) :].split(' OR ')]
    assert found == values
    # Greedy: a query plus the next clause would not have fitted.
    for query, following in zip(queries, queries[1:], strict=False):
        assert len(query) + len(' OR ') + len(following[len(PREFIX) :].split(' OR ')[0]) > limit


def test_chunks_keep_a_suffix_on_every_query():
    prefix, suffix = "SELECT Name FROM Win32_Service WHERE State = 'Running' AND (", ')'
    queries = _wql.build_or_chunks('Name', names(600), prefix, limit=4000, suffix=suffix)
    assert all(q.startswith(prefix) and q.endswith(suffix) and len(q) <= 4000 for q in queries)


def test_exactly_the_limit_fits():
    query = PREFIX + "Name = 'abc'"
    assert _wql.build_or_chunks('Name', ['abc'], PREFIX, limit=len(query)) == [query]


@pytest.mark.parametrize(
    'values, field, limit',
    [([], 'Name', 16384), (['ok', "x' OR '1'='1"], 'Name', 16384), (['a'], 'Password', 16384), (['a' * 100], 'Name', len(PREFIX) + 50)],
)
def test_chunks_refuse_what_cannot_be_sent(values, field, limit):
    with pytest.raises(XProtectError) as caught:
        _wql.build_or_chunks(field, values, PREFIX, limit=limit)
    assert caught.value.kind == 'invalid'


def test_check_length():
    assert _wql.check_length('x' * _wql.MAX_WQL_CHARS) == 'x' * 16384
    with pytest.raises(XProtectError) as caught:
        _wql.check_length('SELECT ' + 'x' * 16384)
    assert caught.value.kind == 'invalid' and '16391 characters long' in str(caught.value)
