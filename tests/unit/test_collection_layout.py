# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's metadata agrees with itself, with its plugins and with its README."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

SUPPORTED_RANGE = '>=2.16.0,<2.20.0'


@pytest.fixture(scope='module')
def galaxy(repo_root):
    return yaml.safe_load((repo_root / 'galaxy.yml').read_text(encoding='utf-8'))


@pytest.fixture(scope='module')
def runtime(repo_root):
    return yaml.safe_load((repo_root / 'meta' / 'runtime.yml').read_text(encoding='utf-8'))


def test_galaxy_identity(galaxy, repo_root):
    assert (galaxy['namespace'], galaxy['name']) == ('xprotect', 'go')
    assert re.fullmatch(r'\d+\.\d+\.\d+', galaxy['version'])
    assert galaxy['license'] == ['GPL-3.0-or-later']
    assert galaxy['dependencies'] == {}
    assert (repo_root / galaxy['readme']).is_file()
    assert {'windows', 'winrm', 'milestone', 'xprotect', 'services', 'surveillance'} <= set(galaxy['tags'])
    for key in ('repository', 'documentation', 'issues'):
        assert galaxy[key].startswith('https://')


def test_build_ignore_leaves_the_simulator_and_test_data_out(galaxy):
    # The simulator ships as its own wheel (simulator/), the WinRM captures are test data only.
    ignored = galaxy['build_ignore']
    assert {'.venv*', '.tmp', 'tests/output', 'simulator', 'tests/fixtures'} <= set(ignored)


def test_supported_ansible_core_range(runtime, repo_root):
    assert runtime['requires_ansible'] == SUPPORTED_RANGE
    assert SUPPORTED_RANGE in (repo_root / 'README.md').read_text(encoding='utf-8')


def test_ci_workflow_runs_the_test_command_on_every_supported_ansible_core(repo_root):
    """GitHub Actions runs .ci/run (make test) once per ansible-core of the supported range, each with its pins."""
    workflow = yaml.safe_load((repo_root / '.github' / 'workflows' / 'ci.yml').read_text(encoding='utf-8'))
    job = workflow['jobs']['make-test']
    versions = job['strategy']['matrix']['ansible-core']
    assert versions == ['2.16', '2.17', '2.18', '2.19']
    assert sorted(path.stem for path in (repo_root / 'scripts' / 'ansible-core').glob('*.txt')) == versions
    assert job['env']['ANSIBLE_CORE_VERSION'] == '${{ matrix.ansible-core }}'
    assert [step['run'] for step in job['steps'] if 'run' in step][-1] == 'bash .ci/run'
    assert 'make test' in (repo_root / '.ci' / 'run').read_text(encoding='utf-8')


def test_action_group_lists_every_module(runtime, repo_root):
    group = runtime['action_groups']['all']
    assert {'service', 'service_info'} <= set(group)
    # The group carries the connection options (module_defaults): every module that takes them is in it; a
    # controller-only module (xprotect.go.maintenance) must not be, it would refuse those options.
    modules = {
        path.stem
        for path in (repo_root / 'plugins' / 'modules').glob('*.py')
        if path.stem != '__init__' and 'xprotect.go._connection' in path.read_text(encoding='utf-8')
    }
    assert modules <= set(group), 'modules missing from action_groups.all: %s' % sorted(modules - set(group))


def test_readme_lists_all_content(repo_root):
    readme = (repo_root / 'README.md').read_text(encoding='utf-8')
    content = [path.stem for path in (repo_root / 'plugins' / 'modules').glob('*.py') if path.stem != '__init__']
    content += [path.name for path in (repo_root / 'roles').glob('*') if path.is_dir()]
    content += [path.stem for path in (repo_root / 'playbooks').glob('*.yml')]
    missing = [name for name in content if '`xprotect.go.%s`' % name not in readme]
    assert not missing, 'README.md "Included content" lacks: %s' % missing


def test_collection_imports_from_this_checkout(repo_root):
    connection = importlib.import_module('ansible_collections.xprotect.go.plugins.module_utils._connection')
    assert Path(connection.__file__).resolve() == repo_root / 'plugins' / 'module_utils' / '_connection.py'


@pytest.mark.compat
def test_ansible_playbook_loads_the_collection(run_playbook, tmp_path):
    """The ansible-core under test accepts requires_ansible and resolves the action group."""
    playbook = tmp_path / 'group.yml'
    playbook.write_text(
        '- name: Load xprotect.go\n'
        '  hosts: localhost\n'
        '  gather_facts: false\n'
        '  module_defaults:\n'
        '    group/xprotect.go.all: {}\n'
        '  tasks:\n'
        '    - name: Report the core version\n'
        '      ansible.builtin.debug:\n'
        '        var: ansible_version.full\n',
        encoding='utf-8',
    )

    # A second, missing inventory source makes ansible warn with a message longer than 80 columns.
    missing_inventory = tmp_path / ('no-such-inventory-' + 'x' * 80 + '.yml')
    run = run_playbook(playbook, 'localhost,', '-i', missing_inventory)

    assert 'does not support Ansible version' not in run.stderr
    assert 'xprotect.go.all' not in run.stderr
    result = run.task('Report the core version', host='localhost')
    assert result.status == 'ok'
    assert re.fullmatch(r'2\.(1[6-9])\.\d+', result.result['ansible_version.full'])
    assert run.has_warning('Unable to parse %s as an inventory source' % missing_inventory), run.stderr
