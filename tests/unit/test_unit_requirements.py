# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""tests/unit/requirements.txt lists every third-party package the unit tests import.

`ansible-test units --requirements` (scripts/ansible-test-units, make test's step 11) installs only that
file; a unit test importing something else passes under plain pytest and fails there. This catches it in
the first step, naming the file.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

UNIT = Path(__file__).resolve().parent
# Importable without a line in the file: Ansible itself and the collection (ansible-test provides them),
# pytest (ansible-test installs it), and the simulator package, which ansible-test cannot install from a
# local path (scripts/ansible-test-units installs it; see the file's comments).
PROVIDED = {'ansible', 'ansible_collections', 'ansible_test', 'pytest', '_pytest', 'tests', 'xprotect_go_simulator'}
# Import names whose distribution has another name, for a venv that lacks the package.
DISTRIBUTIONS = {'winrm': 'pywinrm', 'spnego': 'pyspnego', 'yaml': 'PyYAML', 'jinja2': 'Jinja2'}


def listed():
    lines = (line.split('#', 1)[0].strip() for line in (UNIT / 'requirements.txt').read_text(encoding='utf-8').splitlines())
    return {canonicalize_name(Requirement(line).name) for line in lines if line and not line.startswith('-')}


def local_modules():
    """Modules that live beside the tests (helpers imported by their bare name)."""
    return {path.stem for path in UNIT.rglob('*.py')}


def test_every_third_party_import_of_the_unit_tests_is_listed():
    installed = importlib.metadata.packages_distributions()
    requirements, local = listed(), local_modules()
    missing = {}
    for path in sorted(UNIT.rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top in sys.stdlib_module_names or top in PROVIDED or top in local or top == '__future__':
                    continue
                distributions = installed.get(top) or [DISTRIBUTIONS.get(top, top)]
                if not {canonicalize_name(distribution) for distribution in distributions} & requirements:
                    missing.setdefault(top, str(path.relative_to(UNIT.parents[1])))
    assert not missing, 'imported by unit tests but not in tests/unit/requirements.txt: %s' % missing
