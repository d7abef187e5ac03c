# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""WQL's lexical layer: tokens, string literals, object paths and LIKE patterns (see wql.py)."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Iterator

_TOKEN = re.compile(
    r"""
    (?P<number>-?[0-9]+)(?![A-Za-z0-9_])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),*])
""",
    re.VERBOSE,
)


class WqlError(ValueError):
    """The query is not one the simulated WMI can run. kind: 'syntax', 'class' or 'property'."""

    def __init__(self, message: str, kind: str = 'syntax') -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Token:
    kind: str  # 'number', 'name', 'op', 'punct', 'string', 'path' or 'end'
    value: object
    position: int

    def is_keyword(self, word: str) -> bool:
        return self.kind == 'name' and t.cast(str, self.value).lower() == word


def like_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled regular expression equivalent to a WQL LIKE pattern (case-insensitive)."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == '%':
            out.append('.*')
        elif char == '_':
            out.append('.')
        elif char == '[':
            end = pattern.find(']', index + 1)
            if end == -1 or end == index + 1:
                raise WqlError('unclosed or empty [ ] set in LIKE pattern %r' % pattern)
            out.append(_like_set(pattern[index + 1 : end], pattern))
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile(''.join(out), re.IGNORECASE | re.DOTALL)


def _like_set(body, pattern):
    negate = body.startswith('^') and len(body) > 1
    if negate:
        body = body[1:]
    parts = []
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == '-':
            if body[index] > body[index + 2]:
                raise WqlError('reversed range %r in LIKE pattern %r' % (body[index : index + 3], pattern))
            parts.append('%s-%s' % (re.escape(body[index]), re.escape(body[index + 2])))
            index += 3
        else:
            parts.append(re.escape(body[index]))
            index += 1
    return '[%s%s]' % ('^' if negate else '', ''.join(parts))


def scan_string(text: str, start: int) -> tuple[str, int]:
    """The string literal opening at text[start]; returns (value, index after it)."""
    quote = text[start]
    value = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == '\\':
            escaped = text[index + 1 : index + 2]
            if escaped not in ('\\', "'", '"'):
                raise WqlError('invalid escape \\%s at position %d' % (escaped, index))
            value.append(escaped)
            index += 2
        elif char == quote:
            return ''.join(value), index + 1
        else:
            value.append(char)
            index += 1
    raise WqlError('unterminated string starting at position %d' % start)


def _scan_path(text, start):
    """The object path between '{' at text[start] and its '}'; returns (raw text, index after '}')."""
    index = start + 1
    while index < len(text):
        char = text[index]
        if char in '\'"':
            index = scan_string(text, index)[1]
        elif char == '}':
            return text[start + 1 : index], index + 1
        else:
            index += 1
    raise WqlError('unclosed { at position %d' % start)


def tokens(text: str) -> Iterator[Token]:
    """The tokens of a query, ending with an 'end' token; raises WqlError."""
    value: object
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            yield Token('end', None, index)
            return
        char = text[index]
        if char in '\'"':
            value, end = scan_string(text, index)
            yield Token('string', value, index)
        elif char == '{':
            value, end = _scan_path(text, index)
            yield Token('path', value, index)
        else:
            match = _TOKEN.match(text, index)
            if not match:
                raise WqlError('unexpected character %r at position %d' % (char, index))
            kind = t.cast(str, match.lastgroup)  # every alternative is a named group
            value = int(match.group()) if kind == 'number' else match.group()
            yield Token(kind, value, index)
            end = match.end()
        index = end
