# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The simulator as a package of its own: version, entry points, and modules kept small."""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

import yaml

import xprotect_go_simulator

SIMULATOR = Path(__file__).resolve().parents[3] / 'simulator'
SOURCES = SIMULATOR / 'src' / 'xprotect_go_simulator'
MAX_MODULE_LINES = 440  # "about 400", as for the collection (tests/unit/test_code_shape.py)
MAX_FUNCTION_LINES = 60


def pyproject_field(name):
    match = re.search(r'^%s = "([^"]*)"$' % name, (SIMULATOR / 'pyproject.toml').read_text(encoding='utf-8'), re.MULTILINE)
    assert match, 'no %s in simulator/pyproject.toml' % name
    return match.group(1)


def test_version_is_the_collections(repo_root):
    galaxy = yaml.safe_load((repo_root / 'galaxy.yml').read_text(encoding='utf-8'))
    assert pyproject_field('version') == galaxy['version']
    assert metadata.version('xprotect-go-simulator') == galaxy['version'], 'the venv holds a stale install: make venv'


def test_console_script_and_pytest_plugin_are_registered():
    entry_points = metadata.distribution('xprotect-go-simulator').entry_points
    scripts = {point.name: point.value for point in entry_points if point.group == 'console_scripts'}
    plugins = {point.name: point.value for point in entry_points if point.group == 'pytest11'}
    assert scripts == {'xprotect-go-simulator': 'xprotect_go_simulator.__main__:main'}
    assert plugins == {'xprotect_go_simulator': 'xprotect_go_simulator.pytest_plugin'}


def test_the_tests_use_the_checkouts_code():
    assert Path(xprotect_go_simulator.__file__).resolve().parent == SOURCES


def test_dependencies_cover_the_third_party_imports():
    declared = (SIMULATOR / 'pyproject.toml').read_text(encoding='utf-8')
    third_party = {'spnego': 'pyspnego', 'cryptography': 'cryptography', 'yaml': 'PyYAML'}
    imported = set()
    for path in SOURCES.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split('.')[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split('.')[0])
    # pytest only for the plugin, which pytest itself loads.
    assert imported & set(third_party) == set(third_party)
    for module, distribution in third_party.items():
        assert '"%s>=' % distribution in declared, '%s (for %s) is not a dependency' % (distribution, module)


def test_modules_and_functions_stay_small():
    for path in sorted(SOURCES.glob('*.py')):
        text = path.read_text(encoding='utf-8')
        assert text.startswith('# -*- coding: utf-8 -*-\n# Copyright (c) xprotect.go contributors\n'), path.name
        assert 'SPDX-License-Identifier: GPL-3.0-or-later' in text, path.name
        assert text.count('\n') <= MAX_MODULE_LINES, '%s has %d lines' % (path.name, text.count('\n'))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, '%s: %s has %d lines' % (path.name, node.name, length)
