# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each role's defaults and meta/argument_specs.yml agree, names and values, and follow the naming rules."""

from __future__ import annotations

import re

import pytest
import yaml

ROLES = ('services', 'rolling_restart', 'fleet_report')
PLAYBOOKS = ('status', 'start', 'stop', 'restart')


def load(path):
    return yaml.safe_load(path.read_text(encoding='utf-8'))


@pytest.mark.parametrize('role', ROLES)
def test_defaults_match_the_argument_specs(repo_root, role):
    defaults = load(repo_root / 'roles' / role / 'defaults' / 'main.yml')
    options = load(repo_root / 'roles' / role / 'meta' / 'argument_specs.yml')['argument_specs']['main']['options']
    assert sorted(defaults) == sorted(options)
    for name, spec in options.items():
        assert name.startswith(role + '_'), name
        assert spec.get('description'), name
        assert spec['default'] == defaults[name], name
        if 'choices' in spec:
            # A list's choices are its elements' (as Ansible validates them).
            values = defaults[name] if spec.get('type') == 'list' else [defaults[name]]
            assert all(value in spec['choices'] for value in values), name


@pytest.mark.parametrize('role', ROLES)
def test_internal_variables_are_prefixed(repo_root, role):
    variables = repo_root / 'roles' / role / 'vars' / 'main.yml'
    internal = load(variables) if variables.is_file() else {}
    assert all(name.startswith('_%s_' % role) for name in internal)
    for tasks in (repo_root / 'roles' / role / 'tasks').glob('*.yml'):
        for name in re.findall(r'^\s+register: (\S+)', tasks.read_text(encoding='utf-8'), re.M):
            assert name.startswith(('_%s_' % role, '%s_' % role)), '%s registers %s' % (tasks.name, name)


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_playbooks_only_call_roles_and_document_their_variables(repo_root, playbook):
    path = repo_root / 'playbooks' / ('%s.yml' % playbook)
    plays = load(path)
    roles, pending = [], False
    for play in plays:
        assert set(play) <= {'name', 'hosts', 'gather_facts', 'serial', 'max_fail_percentage', 'roles', 'tasks'}
        assert play['gather_facts'] is False
        # The playbook's hosts; or, after a play that found them (the services role's tasks_from: pending), the
        # hosts with something to do.
        hosts = "{{ groups['xprotect_go_services_pending'] | default([]) }}" if pending else "{{ xprotect_hosts | default('xprotect') }}"
        assert play['hosts'] == hosts
        # Roles, listed or included (a role whose tasks all run once is included once: xprotect.go.status); no other task.
        includes = [task['ansible.builtin.include_role'] for task in play.get('tasks', [])]
        assert len(includes) == len(play.get('tasks', [])) and all(include['name'].startswith('xprotect.go.') for include in includes)
        pending = any(include.get('tasks_from') == 'pending' for include in includes)
        roles += [entry['role'].split('.')[-1] for entry in play.get('roles', [])] + [
            include['name'].split('.')[-1] for include in includes
        ]
    assert roles and not pending, 'a play finds the pending hosts and no play works on them'
    header = path.read_text(encoding='utf-8').split('- name:')[0]
    assert 'xprotect_hosts' in header and 'xprotect.go.%s' % playbook in header
    # Every variable the header documents is a default of one of the roles it calls.
    defaults = {}
    for role in roles:
        defaults.update(load(repo_root / 'roles' / role / 'defaults' / 'main.yml'))
    documented = set(re.findall(r'^#   (\w+) ', header, re.M)) - {'xprotect_hosts'}
    assert documented and documented <= set(defaults), documented - set(defaults)
    readme = (repo_root / 'playbooks' / 'README.md').read_text(encoding='utf-8')
    assert '`xprotect.go.%s`' % playbook in readme


def test_the_pending_group_is_the_one_the_services_role_fills(repo_root):
    internal = load(repo_root / 'roles' / 'services' / 'vars' / 'main.yml')
    assert internal['_services_pending_group'] == 'xprotect_go_services_pending'
