# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet action plugins (fleet_service_info here; plugin_utils/_fleet_action is their base): which hosts, their
variables as hostvars resolves them, the bound."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail, AnsibleUndefinedVariable
from ansible.playbook.play_context import PlayContext

from ansible_collections.xprotect.go.plugins.action import fleet_service_info as fleet_action
from ansible_collections.xprotect.go.plugins.action import fleet_service_plan as fleet_plan_action
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.plugin_utils import _fleet_action as fleet_base

WINRM = {'ansible_connection': 'winrm', 'ansible_user': 'ops', 'ansible_password': 'Pass-1', 'not_a_connection_variable': 'x'}


class HostVarsVars(dict):
    """A host's variables as hostvars gives them: templated on access, which may fail."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if value == '{{ undefined }}':
            raise AnsibleUndefinedVariable("'undefined' is undefined")
        return value


def make_action(args, remote_user=None, first_hosts_password=None):
    """The action as Ansible runs it: the task's keywords (remote_user), and the play context of the first host
    of the play, which holds that host's password."""
    task = mock.MagicMock(args=args, async_val=0, check_mode=False)
    task.dump_attrs.return_value = {'remote_user': remote_user, 'port': None, 'retries': 0, 'timeout': 0}
    play_context = PlayContext()
    play_context.password = first_hosts_password
    action = fleet_action.ActionModule(task, mock.MagicMock(), play_context, loader=None, templar=None, shared_loader_obj=None)
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


def settings_of(fleet, name):
    host = fleet[name]
    return {key: host.settings.get(key) for key in ('host', 'port', 'scheme', 'username', 'password', 'transport')}


def test_the_play_batch_is_read_each_host_with_its_variables_only(read_fleet):
    with mock.patch.object(fleet_base.context, 'CLIARGS', {'forks': 7}):
        result = make_action({}).run(task_vars=task_vars(nvr01=dict(WINRM, ansible_host='10.0.0.1'), nvr02=dict(WINRM)))
    fleet, params, _environ, workers = read_fleet.call_args.args
    assert list(fleet) == ['nvr01', 'nvr02'] and workers == 7
    # What the winrm connection plugin resolves for each host: its variables, then the plugin's defaults.
    assert settings_of(fleet, 'nvr01') == {
        'host': '10.0.0.1',
        'port': 5986,
        'scheme': None,
        'username': 'ops',
        'password': 'Pass-1',
        'transport': None,
    }
    assert fleet['nvr01'].settings.sources['username'] == 'inventory variable ansible_user'
    assert settings_of(fleet, 'nvr02')['host'] == 'nvr02', 'without ansible_host: its inventory name'
    assert params == {'failures': 'auto', 'failure_lookback': 1440}
    assert result['addresses'] == {'nvr01': '10.0.0.1', 'nvr02': 'nvr02'}
    assert (result['changed'], list(result['hosts']), result['warnings']) == (False, ['nvr01', 'nvr02'], [])


def test_settings_from_outside_the_inventory_count_as_for_a_task_on_the_host(read_fleet):
    """The task's remote_user (the play's, else -u, ANSIBLE_REMOTE_USER or ansible.cfg: Ansible fills the keyword in),
    below the host's own ansible_user, and ansible_winrm_* extras: what the winrm plugin reads for a task on the host."""
    without_user = {'ansible_connection': 'ansible.builtin.winrm', 'ansible_password': 'Pass-2', 'ansible_winrm_scheme': 'http'}
    make_action({}, remote_user='cfg-ops').run(task_vars=task_vars(nvr03=without_user, nvr04=dict(without_user, ansible_user='own-ops')))
    fleet = read_fleet.call_args.args[0]
    assert (settings_of(fleet, 'nvr03')['username'], settings_of(fleet, 'nvr04')['username']) == ('cfg-ops', 'own-ops')
    assert settings_of(fleet, 'nvr03')['scheme'] == 'http'
    assert fleet['nvr03'].settings.sources['username'] == "the winrm connection's remote_user"


def test_the_first_hosts_password_in_the_play_context_reaches_no_other_host(read_fleet):
    """The task's play context is the first host's: its password must not become the others' (the plugins' alias)."""
    hosts = task_vars(nvr01=dict(WINRM, ansible_password='First-Pass'), nvr02={'ansible_connection': 'winrm', 'ansible_user': 'ops'})
    make_action({}, first_hosts_password='First-Pass').run(task_vars=hosts)
    fleet = read_fleet.call_args.args[0]
    assert settings_of(fleet, 'nvr01')['password'] == 'First-Pass'
    assert settings_of(fleet, 'nvr02')['password'] is None


def test_psrp_and_other_hosts(read_fleet):
    psrp = {'ansible_connection': 'psrp', 'ansible_user': 'ops', 'ansible_password': 'Pass-3', 'ansible_psrp_protocol': 'http'}
    make_action({}).run(task_vars=task_vars(nvr05=psrp, local={'ansible_connection': 'local', 'ansible_host': '10.0.0.9'}))
    fleet = read_fleet.call_args.args[0]
    assert fleet['nvr05'].settings.connection == 'psrp'
    assert (settings_of(fleet, 'nvr05')['host'], settings_of(fleet, 'nvr05')['scheme']) == ('nvr05', 'http')
    assert fleet['local'].settings == {} and fleet['local'].settings.connection is None, 'no settings from a non-Windows host'


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


def make_plan_action(args):
    action = make_action(args)
    plan = fleet_plan_action.ActionModule(
        action._task, mock.MagicMock(), action._play_context, loader=None, templar=None, shared_loader_obj=None
    )
    plan._load_name = 'xprotect.go.fleet_service_plan'
    return plan


@pytest.fixture
def plan_fleet():
    def plan(fleet, params, environ, workers):
        return {'hosts': {name: {} for name in fleet}, 'pending': list(fleet)[1:], 'converged': list(fleet)[:1], 'warnings': []}

    with mock.patch.object(fleet_plan_action, 'plan_fleet', side_effect=plan) as patched:
        yield patched


def test_the_plan_reads_the_play_batch_with_the_service_tasks_options(plan_fleet):
    result = make_plan_action({'name': ['custom'], 'state': 'started'}).run(task_vars=task_vars(nvr01=WINRM, nvr02=WINRM))
    fleet, params, _environ, _workers = plan_fleet.call_args.args
    assert list(fleet) == ['nvr01', 'nvr02']
    assert (params['name'], params['state'], params['timeout'], params['missing']) == (['custom'], 'started', 120, 'auto')
    assert (result['changed'], result['converged'], result['pending']) == (False, ['nvr01'], ['nvr02'])


@pytest.mark.parametrize(
    'args, message',
    [
        ({'name': ['recording_srver'], 'state': 'started'}, 'recording_server'),
        ({'name': ['custom'], 'state': 'started', 'timeout': 0}, 'timeout must be between 1 and 86400'),
        ({'name': ['custom']}, 'one of the following is required: state, start_mode, account'),
        ({'name': ['custom'], 'state': 'started', 'host': 'nvr09'}, 'Unsupported parameters'),
    ],
)
def test_the_plan_refuses_bad_input_before_any_read(plan_fleet, args, message):
    try:
        result = make_plan_action(args).run(task_vars=task_vars(nvr01=WINRM))
    except AnsibleActionFail as error:
        result = error.result
    assert result['failed'] is True and message in result['msg']
    plan_fleet.assert_not_called()
