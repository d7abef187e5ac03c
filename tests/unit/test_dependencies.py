# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What users install agrees with what the code imports and with what the tests run with.

requirements.txt and meta/ee-requirements.txt state ranges; requirements-dev.txt is the lock that
development and CI install. The lock must satisfy the ranges, the ranges must cover every
third-party package the collection's code imports, and the execution environment metadata must
point at files that exist.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Importable names the collection may use without listing them: Ansible itself, and PyYAML, Jinja2
# and cryptography, which ansible-core requires.
PROVIDED_BY_ANSIBLE = {'ansible', 'ansible_collections', 'yaml', 'jinja2', 'cryptography'}
# Import names whose distribution has another name, for a venv that lacks the package.
DISTRIBUTIONS = {'winrm': 'pywinrm', 'spnego': 'pyspnego'}


def read_requirements(path):
    """The requirement lines of a pip requirements file, parsed; options and -e lines left out."""
    lines = (line.split('#', 1)[0].strip() for line in path.read_text(encoding='utf-8').splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith('-')]


@pytest.fixture(scope='module')
def user_requirements(repo_root):
    return read_requirements(repo_root / 'requirements.txt')


@pytest.fixture(scope='module')
def lock(repo_root):
    pins = {}
    for requirement in read_requirements(repo_root / 'requirements-dev.txt'):
        (specifier,) = requirement.specifier
        assert specifier.operator == '==', 'requirements-dev.txt must pin exactly: %s' % requirement
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_requirements_are_ranges_with_a_tested_lower_bound(user_requirements):
    assert user_requirements
    for requirement in user_requirements:
        operators = {specifier.operator for specifier in requirement.specifier}
        assert '>=' in operators, '%s: state the lowest tested version as a lower bound' % requirement
        assert not operators & {'==', '===', '~='}, '%s: a range, not a pin (the pins live in requirements-dev.txt)' % requirement


def test_the_dev_lock_satisfies_the_ranges(user_requirements, lock):
    for requirement in user_requirements:
        pinned = lock.get(canonicalize_name(requirement.name))
        assert pinned, '%s is not pinned in requirements-dev.txt, so no test runs with it' % requirement.name
        assert requirement.specifier.contains(pinned, prereleases=True), 'requirements-dev.txt pins %s==%s, outside %s' % (
            requirement.name,
            pinned,
            requirement,
        )


def test_execution_environment_requirements_match(repo_root, user_requirements):
    ee = read_requirements(repo_root / 'meta' / 'ee-requirements.txt')
    assert sorted(map(str, ee)) == sorted(map(str, user_requirements))


def test_every_third_party_import_is_a_requirement(repo_root, user_requirements):
    listed = {canonicalize_name(requirement.name) for requirement in user_requirements}
    installed = importlib.metadata.packages_distributions()
    missing = {}
    for path in sorted((repo_root / 'plugins').rglob('*.py')) + sorted((repo_root / 'extensions').rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top in sys.stdlib_module_names or top in PROVIDED_BY_ANSIBLE or top == '__future__':
                    continue
                distributions = installed.get(top) or [DISTRIBUTIONS.get(top, top)]
                if not {canonicalize_name(distribution) for distribution in distributions} & listed:
                    missing.setdefault(top, str(path.relative_to(repo_root)))
    assert not missing, 'imported but not in requirements.txt: %s' % missing


def test_execution_environment_metadata_points_at_the_files(repo_root):
    metadata = yaml.safe_load((repo_root / 'meta' / 'execution-environment.yml').read_text(encoding='utf-8'))
    dependencies = metadata['dependencies']
    assert dependencies == {'python': 'meta/ee-requirements.txt', 'system': 'meta/ee-bindep.txt'}
    for relative in dependencies.values():
        assert (repo_root / relative).is_file(), relative


def test_bindep_lists_the_kerberos_build_and_java_for_each_platform(repo_root):
    entries = {}
    for line in (repo_root / 'meta' / 'ee-bindep.txt').read_text(encoding='utf-8').splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            match = re.fullmatch(r'(\S+)(?:\s+\[([^\]]*)\])?', line)
            assert match, 'not a bindep line: %r' % line
            entries[match.group(1)] = set((match.group(2) or '').split())
    assert entries['gcc'] == {'compile'}
    assert entries['python3-devel'] == entries['krb5-devel'] == {'compile', 'platform:rpm'}
    assert entries['python3-dev'] == entries['libkrb5-dev'] == {'compile', 'platform:dpkg'}
    assert entries['openjdk-17-jre-headless'] == {'platform:dpkg'}
    assert entries['java-17-openjdk-headless'] == {'platform:rpm'}
