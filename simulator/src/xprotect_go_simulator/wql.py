# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small WQL parser and evaluator: the part of WMI's query language the simulated host answers.

Grammar (keywords, class and property names are case-insensitive, as in WMI):

    query      := select | associators
    select     := SELECT ( '*' | name { ',' name } ) FROM class [ WHERE or ]
    or         := and { OR and }
    and        := not { AND not }
    not        := NOT not | '(' or ')' | comparison
    comparison := name op literal | literal op name | name IS [NOT] NULL | name [NOT] LIKE string
    op         := '=' | '<>' | '!=' | '<' | '>' | '<=' | '>='
    literal    := string | integer | TRUE | FALSE | NULL
    associators:= ASSOCIATORS OF '{' class ( '.' key '=' value | '=' value ) '}'
                  [ WHERE { (AssocClass | ResultClass | Role | ResultRole) '=' name } ]

Strings take single or double quotes; a backslash escapes a quote or a backslash. String comparisons
ignore case, as WMI's do. LIKE knows % (any run), _ (one character) and [abc], [a-z], [^abc].
A comparison with a null property is false (use IS NULL); ``= NULL`` means IS NULL.
A datetime property compares with a DMTF string, 'yyyymmddHHMMSS.mmmmmmsUUU' (UUU: UTC offset in minutes),
as a point in time; an array property compares with nothing (WMI does not query arrays).
"""

from __future__ import annotations

import datetime
import operator
import re
import typing as t
from dataclasses import dataclass

from .wql_lexer import WqlError, like_pattern, scan_string, tokens

if t.TYPE_CHECKING:
    from collections.abc import Callable

KEYWORDS = frozenset(('select', 'from', 'where', 'and', 'or', 'not', 'like', 'is', 'null', 'true', 'false', 'associators', 'of'))
ASSOCIATOR_OPTIONS = ('AssocClass', 'ResultClass', 'Role', 'ResultRole')

_PATH_HEAD = re.compile(r'\s*(?P<cls>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\.\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*)?=\s*')

_COMPARE = {
    '=': operator.eq,
    '<>': operator.ne,
    '!=': operator.ne,
    '<': operator.lt,
    '>': operator.gt,
    '<=': operator.le,
    '>=': operator.ge,
}
_MIRROR = {'<': '>', '>': '<', '<=': '>=', '>=': '<='}


@dataclass(frozen=True)
class SelectQuery:
    class_name: str
    properties: tuple | None  # canonical property names in the order named; None for '*'
    condition: Callable[[dict], bool]  # callable(instance: dict) -> bool

    def matches(self, instance: dict) -> bool:
        return self.condition(instance)


@dataclass(frozen=True)
class AssociatorsQuery:
    class_name: str  # class of the source object
    key: str  # its key property (canonical name)
    value: object  # the key's value
    assoc_class: str | None = None
    result_class: str | None = None
    role: str | None = None
    result_role: str | None = None


def parse(text: str, schema: dict) -> SelectQuery | AssociatorsQuery:
    """Parse one WQL query. schema: {class name: property names}. Raises WqlError."""
    if not isinstance(text, str) or not text.strip():
        raise WqlError('the query is empty')
    return _Parser(text, schema).query()


class _Parser:
    def __init__(self, text, schema):
        self.text = text
        self.schema = {name.lower(): (name, {prop.lower(): prop for prop in props}) for name, props in schema.items()}
        self.tokens = list(tokens(text))
        self.index = 0
        self.properties = {}

    # -- token helpers ------------------------------------------------------------------------

    def peek(self):
        return self.tokens[self.index]

    def next(self):
        token = self.tokens[self.index]
        if token.kind != 'end':
            self.index += 1
        return token

    def fail(self, token, expected):
        found = 'the end of the query' if token.kind == 'end' else repr(token.value)
        raise WqlError('expected %s at position %d, found %s' % (expected, token.position, found))

    def keyword(self, word):
        token = self.next()
        if not token.is_keyword(word):
            self.fail(token, word.upper())

    def accept_keyword(self, word):
        if self.peek().is_keyword(word):
            self.index += 1
            return True
        return False

    def accept_punct(self, char):
        token = self.peek()
        if token.kind == 'punct' and token.value == char:
            self.index += 1
            return True
        return False

    def identifier(self, what):
        token = self.next()
        if token.kind != 'name' or token.value.lower() in KEYWORDS:
            self.fail(token, what)
        return token.value

    def end(self):
        token = self.peek()
        if token.kind != 'end':
            self.fail(token, 'the end of the query')

    # -- names ----------------------------------------------------------------------------------

    def resolve_class(self, name):
        entry = self.schema.get(name.lower())
        if entry is None:
            raise WqlError('class %s does not exist in the namespace' % name, kind='class')
        self.properties = entry[1]
        return entry[0]

    def resolve_property(self, name):
        prop = self.properties.get(name.lower())
        if prop is None:
            raise WqlError('%s is not a property of the class' % name, kind='property')
        return prop

    # -- grammar --------------------------------------------------------------------------------

    def query(self):
        token = self.next()
        if token.is_keyword('select'):
            return self.select()
        if token.is_keyword('associators'):
            return self.associators()
        return self.fail(token, 'SELECT or ASSOCIATORS')

    def select(self):
        names = None
        if not self.accept_punct('*'):
            names = [self.identifier('a property name or *')]
            while self.accept_punct(','):
                names.append(self.identifier('a property name'))
        self.keyword('from')
        class_name = self.resolve_class(self.identifier('a class name'))
        properties = None
        if names is not None:
            # WMI answers a property named twice once.
            properties = tuple(dict.fromkeys(self.resolve_property(name) for name in names))
        condition = _always
        if self.accept_keyword('where'):
            condition = self.disjunction()
        self.end()
        return SelectQuery(class_name, properties, condition)

    def disjunction(self):
        terms = [self.conjunction()]
        while self.accept_keyword('or'):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda instance: any(term(instance) for term in terms))

    def conjunction(self):
        terms = [self.negation()]
        while self.accept_keyword('and'):
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else (lambda instance: all(term(instance) for term in terms))

    def negation(self):
        if self.accept_keyword('not'):
            inner = self.negation()
            return lambda instance: not inner(instance)
        if self.accept_punct('('):
            inner = self.disjunction()
            if not self.accept_punct(')'):
                self.fail(self.peek(), ')')
            return inner
        return self.comparison()

    def literal(self):
        """(True, value) for a literal token, else (False, None) without consuming it."""
        token = self.peek()
        if token.kind in ('string', 'number'):
            self.index += 1
            return True, token.value
        for word, value in (('true', True), ('false', False), ('null', None)):
            if token.is_keyword(word):
                self.index += 1
                return True, value
        return False, None

    def operator(self):
        token = self.next()
        if token.kind != 'op':
            self.fail(token, 'a comparison operator')
        return token.value

    def comparison(self):
        is_literal, value = self.literal()
        if is_literal:
            # literal op property, e.g. 'Running' = State
            op = self.operator()
            prop = self.resolve_property(self.identifier('a property name'))
            return _comparison(prop, _MIRROR.get(op, op), value)
        prop = self.resolve_property(self.identifier('a property name or ('))
        if self.accept_keyword('is'):
            negate = self.accept_keyword('not')
            self.keyword('null')
            return (lambda instance: instance[prop] is not None) if negate else (lambda instance: instance[prop] is None)
        negate = self.accept_keyword('not')
        if negate or self.peek().is_keyword('like'):
            self.keyword('like')
            token = self.next()
            if token.kind != 'string':
                self.fail(token, 'a LIKE pattern string')
            pattern = like_pattern(token.value)

            def like(instance):
                current = instance[prop]
                return isinstance(current, str) and pattern.fullmatch(current) is not None

            return (lambda instance: not like(instance)) if negate else like
        op = self.operator()
        is_literal, value = self.literal()
        if not is_literal:
            self.fail(self.peek(), 'a string, number, TRUE, FALSE or NULL')
        return _comparison(prop, op, value)

    def associators(self):
        self.keyword('of')
        token = self.next()
        if token.kind != 'path':
            self.fail(token, '{object path}')
        class_name, key, value = self.object_path(token)
        options = {}
        if self.accept_keyword('where'):
            while self.peek().kind != 'end':
                word = self.identifier('AssocClass, ResultClass, Role or ResultRole')
                option = next((name for name in ASSOCIATOR_OPTIONS if name.lower() == word.lower()), None)
                if option is None:
                    raise WqlError('ASSOCIATORS OF option %s is not supported' % word)
                if option in options:
                    raise WqlError('ASSOCIATORS OF option %s is given twice' % option)
                op = self.operator()
                if op != '=':
                    raise WqlError('ASSOCIATORS OF option %s takes =, not %s' % (option, op))
                options[option] = self.identifier('a name after %s =' % option)
            if not options:
                self.fail(self.peek(), 'AssocClass, ResultClass, Role or ResultRole')
        self.end()
        return AssociatorsQuery(
            class_name,
            key,
            value,
            assoc_class=options.get('AssocClass'),
            result_class=options.get('ResultClass'),
            role=options.get('Role'),
            result_role=options.get('ResultRole'),
        )

    def object_path(self, token):
        """Class.Key="value" (or Class="value", naming the class's key implicitly) from a {path} token."""
        match = _PATH_HEAD.match(token.value)
        if not match:
            raise WqlError('invalid object path {%s}: expected Class.Key="value"' % token.value)
        class_name = self.resolve_class(match.group('cls'))
        key = self.resolve_property(match.group('key')) if match.group('key') else None
        rest = token.value[match.end() :]
        value: object
        if rest[:1] in ('"', "'"):
            value, end = scan_string(rest, 0)
        else:
            number = re.match(r'-?[0-9]+', rest)
            if not number:
                raise WqlError('invalid object path {%s}: expected a quoted value' % token.value)
            value, end = int(number.group()), number.end()
        if rest[end:].strip():
            raise WqlError('invalid object path {%s}: unexpected %r' % (token.value, rest[end:].strip()))
        return class_name, key, value


def _always(_instance):
    return True


def _comparison(prop, op, literal):
    compare = _COMPARE[op]
    if literal is None:
        # WQL's "= NULL" and "<> NULL" test for null; other operators never match a null.
        if op == '=':
            return lambda instance: instance[prop] is None
        if op in ('<>', '!='):
            return lambda instance: instance[prop] is not None
        return lambda instance: False

    def test(instance):
        value = instance[prop]
        if value is None:
            return False
        other = _coerce(literal, value)
        if other is None:
            return False
        if isinstance(value, str):
            return compare(value.casefold(), other.casefold())
        return compare(value, other)

    return test


_DMTF = re.compile(r'(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\.(\d{6})([+-])(\d{3})$')


def cim_datetime(text: object) -> datetime.datetime | None:
    """The aware datetime a DMTF string means, or None when it is not one."""
    match = _DMTF.match(str(text).strip())
    if not match:
        return None
    year, month, day, hour, minute, second, micro, sign, offset = match.groups()
    zone = datetime.timezone(datetime.timedelta(minutes=int(offset) * (-1 if sign == '-' else 1)))
    try:
        return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), int(micro), tzinfo=zone)
    except ValueError:
        return None


def _coerce(literal, value):
    """The literal converted to the property value's type, or None when WMI could not compare them."""
    if isinstance(value, list):
        return None
    if isinstance(value, datetime.datetime):
        return cim_datetime(literal) if isinstance(literal, str) else None
    if isinstance(value, bool):
        if isinstance(literal, bool):
            return literal
        if isinstance(literal, int):
            return literal != 0
        lowered = literal.lower()
        return {'true': True, 'false': False}.get(lowered)
    if isinstance(value, int):
        if isinstance(literal, bool):
            return int(literal)
        if isinstance(literal, int):
            return literal
        try:
            return int(literal.strip())
        except ValueError:
            return None
    if isinstance(literal, bool):
        return 'TRUE' if literal else 'FALSE'
    return str(literal)
