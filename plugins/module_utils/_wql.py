# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Safe pieces of WQL: every user-given value passes through here before it reaches a query.

This is private to the collection: its interface may change without notice.
"""

from __future__ import annotations

import re

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

# Windows allows almost anything in a service name; XProtect and the Windows services we
# look at use only these, and none of them is special in WQL except '_' inside LIKE.
SERVICE_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9 _.()$#@+-]{0,255}')
ALLOWED_CHARACTERS = 'letters, digits, space and _ . ( ) $ # @ + - (first a letter or digit, at most 256)'

# Win32_Service properties queries may compare; nothing else may appear as a field.
FIELDS = frozenset(('Name', 'DisplayName', 'PathName', 'State', 'StartMode', 'StartName'))

_LIKE_ESCAPES = {'[': '[[]', '%': '[%]', '_': '[_]'}


def validate_service_name(name):
    """Return ``name`` when it is a service name we can put into WQL, else raise XProtectError(kind=errors.INVALID)."""
    if not isinstance(name, str) or not SERVICE_NAME.fullmatch(name):
        raise XProtectError('invalid service name %r: use %s' % (name, ALLOWED_CHARACTERS), kind=errors.INVALID)
    return name


def _field(field):
    if field not in FIELDS:
        raise XProtectError('field %r cannot be used in a WQL query (allowed: %s)' % (field, ', '.join(sorted(FIELDS))), kind=errors.INVALID)
    return field


def _literal(text):
    # Validated text never holds these; escaping them anyway keeps a future pattern change safe.
    return "'%s'" % text.replace('\\', '\\\\').replace("'", "\\'")


def quote(value):
    """A WQL string literal for a validated service name."""
    return _literal(validate_service_name(value))


def build_or(field, values):
    """``Field = 'a' OR Field = 'b'`` for validated values."""
    _field(field)
    values = list(values)
    if not values:
        raise XProtectError('no values to compare %s with' % field, kind=errors.INVALID)
    return ' OR '.join('%s = %s' % (field, quote(value)) for value in values)


def like_escape(fragment):
    """A validated fragment with the LIKE wildcards (% _ [) made literal by brackets."""
    return ''.join(_LIKE_ESCAPES.get(char, char) for char in validate_service_name(fragment))


def like_contains(field, fragment):
    """``Field LIKE '%fragment%'`` matching the fragment literally anywhere in the field."""
    return '%s LIKE %s' % (_field(field), _literal('%' + like_escape(fragment) + '%'))
