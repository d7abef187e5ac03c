# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Safe pieces of WQL: every user-given value passes through here before it reaches a query.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

# Windows allows almost anything in a service name; XProtect and the Windows services we
# look at use only these, and none of them is special in WQL except '_' inside LIKE.
SERVICE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9 _.()$#@+-]{0,255}')
ALLOWED_CHARACTERS = 'letters, digits, space and _ . ( ) $ # @ + - (first a letter or digit, at most 256)'

# Win32_Service properties queries may compare; nothing else may appear as a field.
FIELDS = frozenset(('Name', 'DisplayName', 'PathName', 'State', 'StartMode', 'StartName'))
# Win32_DependentService's references to the two services it relates; a query compares them with a service's object path.
REFERENCE_FIELDS = frozenset(('Antecedent', 'Dependent'))

_LIKE_ESCAPES = {'[': '[[]', '%': '[%]', '_': '[_]'}


def validate_service_name(name: t.Any) -> str:
    """Return ``name`` when it is a service name we can put into WQL, else raise XProtectError(kind=errors.INVALID)."""
    if not isinstance(name, str) or not SERVICE_NAME.fullmatch(name):
        raise XProtectError('invalid service name %r: use %s' % (name, ALLOWED_CHARACTERS), kind=errors.INVALID)
    return name


def _field(field, allowed=FIELDS | REFERENCE_FIELDS):
    if field not in allowed:
        raise XProtectError(
            'field %r cannot be used in a WQL query (allowed: %s)' % (field, ', '.join(sorted(allowed))), kind=errors.INVALID
        )
    return field


def _clause(field, value):
    """``Field = 'value'``; a reference field is compared with the named service's object path."""
    if field in REFERENCE_FIELDS:
        return '%s = %s' % (field, _literal(service_path(value)))
    return '%s = %s' % (field, quote(value))


def _literal(text):
    # Validated text never holds these; escaping them anyway keeps a future pattern change safe.
    return "'%s'" % text.replace('\\', '\\\\').replace("'", "\\'")


def quote(value: t.Any) -> str:
    """A WQL string literal for a validated service name."""
    return _literal(validate_service_name(value))


def service_path(name: t.Any) -> str:
    """The relative object path of a Win32_Service instance, as WMI writes it: ``Win32_Service.Name="name"``."""
    return 'Win32_Service.Name="%s"' % validate_service_name(name)


def build_or(field: str, values: t.Iterable[t.Any]) -> str:
    """``Field = 'a' OR Field = 'b'`` for validated values."""
    _field(field)
    values = list(values)
    if not values:
        raise XProtectError('no values to compare %s with' % field, kind=errors.INVALID)
    return ' OR '.join(_clause(field, value) for value in values)


def like_escape(fragment: t.Any) -> str:
    """A validated fragment with the LIKE wildcards (% _ [) made literal by brackets."""
    return ''.join(_LIKE_ESCAPES.get(char, char) for char in validate_service_name(fragment))


def like_contains(field: str, fragment: t.Any) -> str:
    """``Field LIKE '%fragment%'`` matching the fragment literally anywhere in the field."""
    return '%s LIKE %s' % (_field(field, FIELDS), _literal('%' + like_escape(fragment) + '%'))


# The longest WQL query we send. Microsoft documents a limit on the number of AND/OR keywords, which
# "depends on how complex the query is" and shows as WBEM_E_QUOTA_VIOLATION
# (https://learn.microsoft.com/en-us/windows/win32/wmisdk/querying-with-wql, "Querying with WQL"),
# but no page we found states a length in characters: 16,384 is this collection's bound (issue 13),
# not a figure quoted from Microsoft. Long name lists are split over several queries
# (build_or_chunks), which also keeps each query's OR keywords few.
MAX_WQL_CHARS = 16384


def check_length(wql: str, limit: int = MAX_WQL_CHARS) -> str:
    """Return ``wql`` when it is at most ``limit`` characters, else raise XProtectError(kind=errors.INVALID)."""
    if len(wql) > limit:
        raise XProtectError(
            'WQL query "%s..." is %d characters long, more than the %d this collection sends to Windows in one query: '
            'split it (_wql.build_or_chunks)' % (wql[:60], len(wql), limit),
            kind=errors.INVALID,
        )
    return wql


def build_or_chunks(field: str, values: t.Iterable[t.Any], prefix: str, limit: int = MAX_WQL_CHARS, suffix: str = '') -> t.List[str]:
    """Full queries ``prefix + "Field = 'a' OR Field = 'b' ..." + suffix``, each at most ``limit`` characters.

    Together they compare ``field`` with every value, in order, each value once. A value whose
    clause cannot fit even alone raises XProtectError(kind=errors.INVALID), as does an empty list.
    """
    _field(field)
    clauses = [_clause(field, value) for value in values]
    if not clauses:
        raise XProtectError('no values to compare %s with' % field, kind=errors.INVALID)
    room = limit - len(prefix) - len(suffix)
    queries: t.List[str] = []
    current: t.List[str] = []
    size = 0
    for clause in clauses:
        if len(clause) > room:
            raise XProtectError(
                'a query comparing %s with one value would be longer than %d characters' % (field, limit), kind=errors.INVALID
            )
        added = len(clause) + (len(' OR ') if current else 0)
        if current and size + added > room:
            queries.append(prefix + ' OR '.join(current) + suffix)
            current, size, added = [], 0, len(clause)
        current.append(clause)
        size += added
    queries.append(prefix + ' OR '.join(current) + suffix)
    return queries
