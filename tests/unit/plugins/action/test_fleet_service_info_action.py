# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_service_info action plugin: which hosts, their variables as hostvars resolves them, the bound."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.errors import AnsibleUndefinedVariable

from ansible_collections.xprotect.go.plugins.action import fleet_service_info as fleet_action
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

WINRM = {'ansible_connection': 'winrm', 'ansible_user': 'ops', 'ansible_password': 'Pass-1', 'not_a_connection_variable': 'x'}


class HostVarsVars(dict):
    """A host's variables as hostvars gives them: templated on access, which may fail."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if value == '{{ undefined }}':
            raise AnsibleUndefinedVariable("'undefined' is undefined")
        return value


def make_action(args):
    task = mock.MagicMock(args=args, async_val=0, check_mode=False)
    action = fleet_action.ActionModule(
        task, mock.MagicMock(), mock.MagicMock(check_mode=False), loader=None, templar=None, shared_loader_obj=None
    )
    action._load_name = 'xprotect.go.fleet_service_info'
    return action


@pytest.fixture
def read_fleet():
    with mock.patch.object(
        fleet_action, 'read_fleet', side_effect=lambda fleet, params, environ, workers: {name: {} for name in fleet}
    ) as patched:
        yield patched


def task_vars(**hosts):
    return {'ansible_play_batch': list(hosts), 'hostvars': {name: HostVarsVars(variables) for name, variables in hosts.items()}}


def test_the_play_batch_is_read_each_host_with_its_variables_only(read_fleet):
    with mock.patch.object(fleet_action.context, 'CLIARGS', {'forks': 7}):
        result = make_action({}).run(task_vars=task_vars(nvr01=dict(WINRM, ansible_host='10.0.0.1'), nvr02=dict(WINRM)))
    fleet, params, _environ, workers = read_fleet.call_args.args
    assert list(fleet) == ['nvr01', 'nvr02'] and workers == 7
    assert fleet['nvr01'] == {
        'ansible_connection': 'winrm',
        'ansible_user': 'ops',
        'ansible_password': 'Pass-1',
        'ansible_host': '10.0.0.1',
    }
    assert params == {'failures': 'auto', 'failure_lookback': 1440}
    assert result['addresses'] == {'nvr01': '10.0.0.1', 'nvr02': 'nvr02'}
    assert (result['changed'], list(result['hosts']), result['warnings']) == (False, ['nvr01', 'nvr02'], [])


def test_a_host_whose_variables_cannot_be_templated_is_handed_over_as_its_error(read_fleet):
    make_action({'hosts': ['nvr02'], 'concurrency': 3}).run(
        task_vars=task_vars(nvr01=WINRM, nvr02=dict(WINRM, ansible_password='{{ undefined }}'))
    )
    fleet, _params, _environ, workers = read_fleet.call_args.args
    assert list(fleet) == ['nvr02'] and workers == 3
    assert isinstance(fleet['nvr02'], XProtectError) and 'nvr02 could not be resolved' in str(fleet['nvr02'])
    assert 'Pass-1' not in str(fleet['nvr02'])


@pytest.mark.parametrize(
    'args, message',
    [({'hosts': ['nvr01', 'ghost']}, 'hosts not in the inventory: ghost'), ({'concurrency': 0}, 'concurrency must be between')],
)
def test_bad_hosts_or_bound_fail_the_task_before_any_read(read_fleet, args, message):
    result = make_action(args).run(task_vars=task_vars(nvr01=WINRM))
    assert result['failed'] is True and message in result['msg']
    read_fleet.assert_not_called()
