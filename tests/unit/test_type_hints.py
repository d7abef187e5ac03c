# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every public function and method in the type-checked code carries type hints (issue 14).

mypy (scripts/typecheck) checks plugins/module_utils, plugins/plugin_utils and the simulator; it
only checks what is annotated, so a public function without hints would slip through. Public means
no leading underscore (dunder methods such as __init__ count as public); nested functions are
private to their enclosing function and not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKED = ('plugins/module_utils', 'plugins/plugin_utils', 'simulator/src/xprotect_go_simulator')
# Files whose hints are still being added (issue 14): remove each as it is done; the test below fails when
# a listed file is already complete, so the list only shrinks.
NOT_YET_HINTED = frozenset([])


def _public(name):
    return not name.startswith('_') or (name.startswith('__') and name.endswith('__'))


def _functions(tree):
    """(qualified name, node) of module-level functions and methods of public module-level classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and _public(node.name):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield '%s.%s' % (node.name, item.name), item


def _missing(function, is_method):
    arguments = function.args
    positional = arguments.posonlyargs + arguments.args
    if is_method and positional and not any(isinstance(d, ast.Name) and d.id == 'staticmethod' for d in function.decorator_list):
        positional = positional[1:]  # self or cls
    every = positional + arguments.kwonlyargs + [a for a in (arguments.vararg, arguments.kwarg) if a]
    missing = [argument.arg for argument in every if argument.annotation is None]
    if function.returns is None:
        missing.append('return')
    return missing


def _unannotated(path):
    tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
    found = []
    for name, function in _functions(tree):
        if not _public(name.rsplit('.', 1)[-1]):
            continue
        missing = _missing(function, '.' in name)
        if missing:
            found.append('%s:%d %s (%s)' % (path.relative_to(REPO_ROOT), function.lineno, name, ', '.join(missing)))
    return found


@pytest.mark.parametrize('directory', CHECKED)
def test_public_functions_have_type_hints(directory):
    paths = sorted((REPO_ROOT / directory).glob('*.py'))
    unannotated = [line for path in paths if _relative(path) not in NOT_YET_HINTED for line in _unannotated(path)]
    assert not unannotated, 'public functions without type hints:\n' + '\n'.join(unannotated)
    done = [_relative(path) for path in paths if _relative(path) in NOT_YET_HINTED and not _unannotated(path)]
    assert not done, 'fully hinted now, remove from NOT_YET_HINTED: %s' % ', '.join(done)


def _relative(path):
    return path.relative_to(REPO_ROOT).as_posix()
