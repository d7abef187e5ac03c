# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Files that each answer one question: no plugin file over about 400 lines, no function over 60.

The simulator package holds itself to the same limits (tests/unit/simulator/test_sim_package.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(path for folder in ('plugins', 'extensions') for path in (REPO_ROOT / folder).rglob('*.py'))
# "About 400" (10 % over, for the formatter's line breaks): room for a docstring, not for a second concern.
MAX_FILE_LINES = 440
MAX_FUNCTION_LINES = 60
# Modules carry their DOCUMENTATION, EXAMPLES and RETURN as long strings: only their code counts.
DOC_STRINGS = ('DOCUMENTATION', 'EXAMPLES', 'RETURN')


def code_lines(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding='utf-8'))
    docs = sum(
        node.end_lineno - node.lineno + 1
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) in DOC_STRINGS for target in node.targets)
    )
    return len(path.read_text(encoding='utf-8').splitlines()) - docs


@pytest.mark.parametrize('path', SOURCES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_file_answers_one_question(path):
    assert code_lines(path) <= MAX_FILE_LINES, '%s has %d lines of code: split it by concern' % (path.name, code_lines(path))


@pytest.mark.parametrize('path', SOURCES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_functions_are_short(path):
    tree = ast.parse(path.read_text(encoding='utf-8'))
    long = [
        '%s (%d lines)' % (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, '%s: %s' % (path.name, ', '.join(long))


def test_the_limits_catch_a_long_file(tmp_path):
    long_file = tmp_path / 'long.py'
    long_file.write_text('x = 1\n' * (MAX_FILE_LINES + 1) + "DOCUMENTATION = '''\n" + 'a: b\n' * 500 + "'''\n", encoding='utf-8')
    assert code_lines(long_file) == MAX_FILE_LINES + 1
