# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every kind of error the collection raises is one of _errors.KINDS, named by its constant.

Read from the source (ast): each ``kind=`` given to a call, and each kind Fault._classify decides (where a
WS-Management fault's kind is decided once), is
either a constant of _errors (``errors.TIMEOUT``) whose value is in KINDS, or the kind of another error
passed on (``fault.kind``, ``error.kind``). A string literal, or a constant that is not a kind, fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ansible_collections.xprotect.go.plugins.module_utils import _errors

PLUGINS = Path(__file__).resolve().parents[2] / 'plugins'
ERRORS_MODULES = {'errors', '_errors'}


def kind_values():
    """(where, the ast node of a kind) for every kind= keyword and every return of Fault._classify."""
    for path in sorted(PLUGINS.rglob('*.py')):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == 'kind':
                        yield '%s:%d' % (path.relative_to(PLUGINS), keyword.value.lineno), keyword.value
            elif isinstance(node, ast.ClassDef) and node.name == 'Fault':
                classify = [item for item in node.body if getattr(item, 'name', None) == '_classify']
                for inner in (found for item in classify for found in ast.walk(item)):
                    if isinstance(inner, ast.Return) and inner.value is not None:
                        yield '%s:%d' % (path.relative_to(PLUGINS), inner.value.lineno), inner.value


def problem(node):
    """None when the node names a kind the right way (each branch of a conditional too), else why not."""
    if isinstance(node, ast.IfExp):
        return problem(node.body) or problem(node.orelse)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id in ERRORS_MODULES:
            value = getattr(_errors, node.attr, None)
            return None if value in _errors.KINDS else '_errors.%s is not one of KINDS' % node.attr
        if node.attr == 'kind':
            return None  # the kind of another error, passed on
    return 'not a constant of _errors: %s' % ast.unparse(node)


def test_every_kind_raised_is_a_constant_of_the_errors_module():
    found = list(kind_values())
    assert len(found) > 20, 'the scan found the kinds the collection raises'
    assert {where: problem(node) for where, node in found if problem(node)} == {}


def test_the_check_catches_a_literal_and_an_unknown_constant():
    assert problem(ast.parse("f(kind='timeout')").body[0].value.keywords[0].value) is not None
    assert problem(ast.parse('f(kind=errors.NOT_A_KIND)').body[0].value.keywords[0].value) is not None
    assert problem(ast.parse("f(kind=errors.TIMEOUT if a else 'x')").body[0].value.keywords[0].value) is not None
    assert problem(ast.parse('f(kind=errors.TIMEOUT)').body[0].value.keywords[0].value) is None
