# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulator's WQL parser: grammar, precedence, LIKE, literals, escaping and errors."""

from __future__ import annotations

import pytest

from xprotect_go_simulator import wql

SCHEMA = {'Win32_Service': ('AcceptStop', 'Description', 'Name', 'ProcessId', 'StartMode', 'State')}

ROWS = [
    {'Name': 'Spooler', 'State': 'Running', 'StartMode': 'Auto', 'ProcessId': 1720, 'AcceptStop': True, 'Description': 'x'},
    {'Name': 'W32Time', 'State': 'Stopped', 'StartMode': 'Manual', 'ProcessId': 0, 'AcceptStop': False, 'Description': None},
    {
        'Name': 'MSSQL$SQLEXPRESS',
        'State': 'Running',
        'StartMode': 'Manual',
        'ProcessId': 88,
        'AcceptStop': True,
        'Description': 'O\'Brien "db" C:\\data',
    },
    {
        'Name': 'Milestone Image Server',
        'State': 'Stopped',
        'StartMode': 'Disabled',
        'ProcessId': 0,
        'AcceptStop': False,
        'Description': '100% [ready]',
    },
]


def names(where):
    query = wql.parse('SELECT * FROM Win32_Service WHERE ' + where, SCHEMA)
    return [row['Name'] for row in ROWS if query.matches(row)]


def test_select_star_and_property_lists_resolve_names_case_insensitively():
    star = wql.parse('select * from WIN32_SERVICE', SCHEMA)
    assert star.class_name == 'Win32_Service' and star.properties is None
    listed = wql.parse('SELECT state, NAME, State FROM win32_service', SCHEMA)
    assert listed.properties == ('State', 'Name')  # canonical spelling, order named, duplicates once
    assert all(listed.matches(row) for row in ROWS)


@pytest.mark.parametrize(
    'where, expected',
    [
        # AND binds tighter than OR: Spooler, plus the running Manual service.
        ("Name = 'Spooler' OR State = 'Running' AND StartMode = 'Manual'", ['Spooler', 'MSSQL$SQLEXPRESS']),
        ("(Name = 'Spooler' OR State = 'Running') AND StartMode = 'Manual'", ['MSSQL$SQLEXPRESS']),
        # NOT binds tighter than AND.
        ("NOT State = 'Running' AND StartMode = 'Manual'", ['W32Time']),
        ("NOT (State = 'Running' AND StartMode = 'Manual')", ['Spooler', 'W32Time', 'Milestone Image Server']),
        ("NOT NOT Name = 'W32Time'", ['W32Time']),
    ],
)
def test_precedence_and_parentheses(where, expected):
    assert names(where) == expected


@pytest.mark.parametrize(
    'where, expected',
    [
        ("name = 'SPOOLER'", ['Spooler']),  # string comparison ignores case
        ("State <> 'Running'", ['W32Time', 'Milestone Image Server']),
        ("State != 'running'", ['W32Time', 'Milestone Image Server']),
        ('ProcessId > 100', ['Spooler']),
        ('ProcessId >= 88 AND ProcessId <= 88', ['MSSQL$SQLEXPRESS']),
        ('100 < ProcessId', ['Spooler']),  # literal first: the operator is mirrored
        ("ProcessId = '88'", ['MSSQL$SQLEXPRESS']),  # WMI converts the literal to the property's type
        ('AcceptStop = TRUE', ['Spooler', 'MSSQL$SQLEXPRESS']),
        ('AcceptStop = false', ['W32Time', 'Milestone Image Server']),
        ('Description IS NULL', ['W32Time']),
        ('Description = NULL', ['W32Time']),
        ('Description IS NOT NULL', ['Spooler', 'MSSQL$SQLEXPRESS', 'Milestone Image Server']),
        ("Description <> 'x'", ['MSSQL$SQLEXPRESS', 'Milestone Image Server']),  # a null never compares
    ],
)
def test_comparisons_and_literals(where, expected):
    assert names(where) == expected


@pytest.mark.parametrize(
    'where, expected',
    [
        ("Name LIKE 'm%'", ['MSSQL$SQLEXPRESS', 'Milestone Image Server']),
        ("Name LIKE '%server'", ['Milestone Image Server']),
        ("Name LIKE 'W__Time'", ['W32Time']),
        ("Name LIKE '[st]%'", ['Spooler']),
        ("Name LIKE '[a-n]%'", ['MSSQL$SQLEXPRESS', 'Milestone Image Server']),
        ("Name LIKE '[^m]%'", ['Spooler', 'W32Time']),
        ("Name NOT LIKE 'm%'", ['Spooler', 'W32Time']),
        ("Description LIKE '100[%] [[]ready]'", ['Milestone Image Server']),  # brackets make % and [ literal
        ("Description LIKE '100_%'", ['Milestone Image Server']),
        ("ProcessId LIKE '1%'", []),  # LIKE only matches strings
    ],
)
def test_like_wildcards(where, expected):
    assert names(where) == expected


def test_string_escapes_and_both_quote_styles():
    assert names("Description = 'O\\'Brien \"db\" C:\\\\data'") == ['MSSQL$SQLEXPRESS']
    assert names('Description = "O\'Brien \\"db\\" C:\\\\data"') == ['MSSQL$SQLEXPRESS']
    assert names('Name = "MSSQL$SQLEXPRESS"') == ['MSSQL$SQLEXPRESS']


@pytest.mark.parametrize(
    'query, kind',
    [
        ('SELECT * FROM Win32_Process', 'class'),
        ('SELECT Nme FROM Win32_Service', 'property'),
        ("SELECT * FROM Win32_Service WHERE Stat = 'Running'", 'property'),
        ('', 'syntax'),
        ('SELECT FROM Win32_Service', 'syntax'),
        ('SELECT * Win32_Service', 'syntax'),
        ('SELECT *, Name FROM Win32_Service', 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name = 'a' extra", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name == 'a'", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name = 'unterminated", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name = 'bad \\x escape'", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE (Name = 'a'", 'syntax'),
        ('SELECT * FROM Win32_Service WHERE Name LIKE 5', 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name LIKE '[abc'", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name LIKE '[z-a]'", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name = 'a' AND", 'syntax'),
        ('SELECT * FROM Win32_Service WHERE Name IS 5', 'syntax'),
        ("SELECT * FROM Win32_Service WHERE 'a' = 'b'", 'syntax'),
        ("SELECT * FROM Win32_Service WHERE Name = 'a';", 'syntax'),
        ('DELETE FROM Win32_Service', 'syntax'),
    ],
)
def test_errors_say_what_kind(query, kind):
    with pytest.raises(wql.WqlError) as error:
        wql.parse(query, SCHEMA)
    assert error.value.kind == kind


def test_associators_of_parses_path_and_options():
    query = wql.parse('ASSOCIATORS OF {Win32_Service.Name="RpcSs"} WHERE AssocClass = Win32_DependentService Role = Antecedent', SCHEMA)
    assert query == wql.AssociatorsQuery('Win32_Service', 'Name', 'RpcSs', assoc_class='Win32_DependentService', role='Antecedent')
    other = wql.parse("associators of { win32_service.name = 'a \\'b\\' }' } where resultrole = Dependent", SCHEMA)
    assert (other.class_name, other.key, other.value, other.result_role) == ('Win32_Service', 'Name', "a 'b' }", 'Dependent')
    shorthand = wql.parse('ASSOCIATORS OF {Win32_Service="Spooler"}', SCHEMA)
    assert (shorthand.key, shorthand.value, shorthand.role) == (None, 'Spooler', None)


@pytest.mark.parametrize(
    'query, kind',
    [
        ('ASSOCIATORS OF Win32_Service.Name="a"', 'syntax'),
        ('ASSOCIATORS OF {Win32_Service.Name="a"', 'syntax'),
        ('ASSOCIATORS OF {Win32_Process.Handle="4"}', 'class'),
        ('ASSOCIATORS OF {Win32_Service.Nme="a"}', 'property'),
        ('ASSOCIATORS OF {Win32_Service.Name=}', 'syntax'),
        ('ASSOCIATORS OF {Win32_Service.Name="a" junk}', 'syntax'),
        ('ASSOCIATORS OF {Win32_Service.Name="a"} WHERE ClassDefsOnly', 'syntax'),
        ('ASSOCIATORS OF {Win32_Service.Name="a"} WHERE Role = Antecedent Role = Dependent', 'syntax'),
        ('ASSOCIATORS OF {Win32_Service.Name="a"} WHERE Role <> Antecedent', 'syntax'),
        ('ASSOCIATORS OF {Win32_Service.Name="a"} WHERE', 'syntax'),
    ],
)
def test_associators_errors(query, kind):
    with pytest.raises(wql.WqlError) as error:
        wql.parse(query, SCHEMA)
    assert error.value.kind == kind


def test_like_pattern_is_anchored_and_literal_outside_wildcards():
    pattern = wql.like_pattern('a.b%')
    assert pattern.fullmatch('A.Bxyz') and not pattern.fullmatch('aXb') and not pattern.fullmatch('za.b')
