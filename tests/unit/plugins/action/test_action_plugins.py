# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins, built on mocks the way Ansible builds them, with the shared logic replaced."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.xprotect.go.plugins.action import service as service_action
from ansible_collections.xprotect.go.plugins.action import service_info as service_info_action
from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.plugin_utils import _action as action_base

WINRM_OPTIONS = {
    'remote_addr': '10.1.2.3',
    'port': 5985,
    'remote_user': 'EXAMPLE\\ops',
    'remote_password': 'Secret-1',
    'transport': ['ntlm'],
    'scheme': 'http',
    'path': '/wsman',
    '_extras': {'ansible_winrm_server_cert_validation': 'ignore', 'ansible_winrm_read_timeout_sec': 50},
}


def make_action(module, args, transport='winrm', options=None, check_mode=False, diff=False, become=False):
    options = WINRM_OPTIONS if options is None else options
    task = mock.MagicMock(args=args, async_val=0, check_mode=check_mode, action=module.ActionModule.MODULE)
    connection = mock.MagicMock(transport=transport)
    connection._shell.tmpdir = None

    def get_option(name):
        if name not in options:
            raise KeyError(name)
        return options[name]

    connection.get_option.side_effect = get_option
    play_context = mock.MagicMock(check_mode=check_mode, diff=diff, become=become)
    templar = mock.MagicMock()
    templar.template.side_effect = lambda value: value
    action = module.ActionModule(task, connection, play_context, loader=None, templar=templar, shared_loader_obj=None)
    # The plugin loader sets this; ansible-core 2.18+ sets it in __init__ too, 2.16 and 2.17 do not.
    action._load_name = module.ActionModule.MODULE
    return action


@pytest.fixture
def run_service():
    with mock.patch.object(service_action, 'run_service', return_value={'changed': True, 'services': {}}) as patched:
        yield patched


def test_winrm_host_settings_come_from_the_connection(run_service):
    action = make_action(service_action, {'name': 'recording_server', 'state': 'started'})
    result = action.run(task_vars={})
    assert result['changed'] is True
    params, host_settings = run_service.call_args.args[:2]
    assert params['name'] == ['recording_server'] and params['timeout'] == 120
    assert host_settings == {
        'host': '10.1.2.3',
        'port': 5985,
        'username': 'EXAMPLE\\ops',
        'password': 'Secret-1',
        'transport': 'ntlm',
        'scheme': 'http',
        'path': '/wsman',
        'validate_certs': False,
        'connection_timeout': 50,
    }
    assert host_settings.connection == 'winrm'


def test_an_extra_winrm_variable_beats_the_plugins_option(run_service):
    options = dict(WINRM_OPTIONS, connection_timeout=45)
    make_action(service_action, {'name': 'recording_server', 'state': 'started'}, options=options).run(task_vars={})
    assert run_service.call_args.args[1]['connection_timeout'] == 50, 'ansible_winrm_read_timeout_sec comes first'
    options['_extras'] = {}
    make_action(service_action, {'name': 'recording_server', 'state': 'started'}, options=options).run(task_vars={})
    assert run_service.call_args.args[1]['connection_timeout'] == 45, 'then ansible_winrm_connection_timeout (the option)'


def test_check_and_diff_mode_reach_the_logic(run_service):
    make_action(service_action, {'name': 'custom', 'state': 'stopped'}, check_mode=True, diff=True).run(task_vars={})
    assert run_service.call_args.kwargs == {'check_mode': True, 'diff': True}


def test_service_names_come_from_the_inventory_variable(run_service):
    names = {'recording_server': 'VideoOSRecordingServer'}
    make_action(service_action, {'name': 'recording_server', 'state': 'started'}).run(task_vars={'xprotect_go_service_names': names})
    assert run_service.call_args.args[0]['service_names'] == names


def test_task_service_names_beat_the_inventory_variable(run_service):
    task_names = {'recording_server': 'Task Name'}
    make_action(service_action, {'name': 'recording_server', 'state': 'started', 'service_names': task_names}).run(
        task_vars={'xprotect_go_service_names': {'recording_server': 'Inventory Name'}}
    )
    assert run_service.call_args.args[0]['service_names'] == task_names


@pytest.mark.parametrize(
    'args, fragment',
    [
        ({'name': 'recording_server'}, 'one of the following is required: state, start_mode'),
        ({'name': 'recording_server', 'state': 'running'}, 'value of state must be one of'),
        ({'name': 'recording_server', 'state': 'started', 'bogus': 1}, 'bogus'),
        ({'state': 'started'}, 'missing required arguments: name'),
        ({'name': 'recording_server', 'state': 'started', 'timeout': 'soon'}, 'timeout'),
    ],
)
def test_bad_arguments_fail_before_anything_runs(run_service, args, fragment):
    with pytest.raises(AnsibleActionFail) as error:
        make_action(service_action, args).run(task_vars={})
    assert fragment in str(error.value)
    run_service.assert_not_called()


def test_unreachable_host_is_reported_unreachable(run_service):
    run_service.side_effect = XProtectError('cannot connect', host='10.1.2.3', kind='unreachable')
    result = make_action(service_action, {'name': 'recording_server', 'state': 'started'}).run(task_vars={})
    assert result['unreachable'] is True and 'failed' not in result
    assert result['msg'] == '10.1.2.3: cannot connect'


def test_failure_keeps_the_partial_result(run_service):
    error = XProtectError('did not start', host='h', service='Milestone XProtect Recording Server', kind='service')
    error.result = {'services': {'recording_server': {'state': 'stopped'}}, 'changed': True}
    run_service.side_effect = error
    result = make_action(service_action, {'name': 'standard', 'state': 'started'}).run(task_vars={})
    assert result['failed'] is True and result['changed'] is True
    assert result['services']['recording_server']['state'] == 'stopped'
    assert "service 'Milestone XProtect Recording Server'" in result['msg']


def test_psrp_host_settings(run_service):
    options = {
        'remote_addr': 'nvr09',
        'remote_user': 'ops',
        'remote_password': 'pw',
        'protocol': 'https',
        'port': 5986,
        'auth': 'negotiate',
        'cert_validation': 'ignore',
        'read_timeout': 40,
    }
    make_action(service_action, {'name': 'recording_server', 'state': 'started'}, transport='psrp', options=options).run(task_vars={})
    host_settings = run_service.call_args.args[1]
    assert host_settings == {
        'host': 'nvr09',
        'port': 5986,
        'username': 'ops',
        'password': 'pw',
        'scheme': 'https',
        'transport': 'ntlm',
        'validate_certs': False,
        'connection_timeout': 40,
    }
    assert host_settings.connection == 'psrp'


DELEGATING_HOST_VARS = {
    'ansible_host': 'nvr01.example.com',
    'ansible_port': 5985,
    'ansible_user': 'inventory-user',
    'ansible_password': 'Inventory-Secret',
    'ansible_connection': 'winrm',
    'ansible_winrm_transport': 'ntlm',
    'unrelated': 'x',
}


def test_task_delegated_to_localhost_runs_here_with_the_hosts_settings(run_service):
    action = make_action(service_action, {'name': 'recording_server', 'state': 'started', 'username': 'task-user'}, transport='local')
    with mock.patch.object(action, '_execute_module') as execute:
        result = action.run(task_vars=dict(DELEGATING_HOST_VARS))
    execute.assert_not_called()
    assert result['changed'] is True
    params, host_settings = run_service.call_args.args[:2]
    assert params['username'] == 'task-user', 'the task option, which resolve_connection puts first'
    assert host_settings == {
        'host': 'nvr01.example.com',
        'port': 5985,
        'username': 'inventory-user',
        'password': 'Inventory-Secret',
        'transport': 'ntlm',
    }


def test_play_on_localhost_does_not_take_localhosts_own_address(run_service):
    action = make_action(service_action, {'name': 'recording_server', 'state': 'started', 'host': 'nvr02'}, transport='local')
    action.run(task_vars={'ansible_host': '127.0.0.1', 'ansible_connection': 'local', 'ansible_user': 'root'})
    assert run_service.call_args.args[1] == {}


@pytest.mark.parametrize(
    'transport, become, winrm_import_error',
    [
        ('ssh', False, None),
        ('local', True, None),
        ('local', False, 'ModuleNotFoundError: No module named winrm'),
    ],
    ids=['delegated-to-another-host', 'become', 'no-pywinrm-on-the-controller'],
)
def test_the_real_module_runs_with_the_hosts_settings(run_service, monkeypatch, transport, become, winrm_import_error):
    monkeypatch.setattr(action_base, 'WINRM_IMPORT_ERROR', winrm_import_error)
    action = make_action(
        service_action, {'name': 'recording_server', 'state': 'started', 'username': 'task-user'}, transport=transport, become=become
    )
    with mock.patch.object(action, '_execute_module', return_value={'changed': False}) as execute:
        result = action.run(task_vars=dict(DELEGATING_HOST_VARS))
    run_service.assert_not_called()
    assert result['changed'] is False
    kwargs = execute.call_args.kwargs
    assert kwargs['module_name'] == 'xprotect.go.service'
    args = kwargs['module_args']
    assert (args['host'], args['port'], args['scheme'], args['username'], args['password']) == (
        'nvr01.example.com',
        5985,
        'http',
        'task-user',
        'Inventory-Secret',
    )
    assert args['name'] == ['recording_server']


def test_service_info_never_changes(monkeypatch):
    monkeypatch.setattr(
        service_info_action,
        'run_service_info',
        lambda params, host_settings, environ: {'services': {}, 'warnings': ['w'], 'install_type': 'standard'},
    )
    result = make_action(service_info_action, {}).run(task_vars={})
    assert result['changed'] is False and result['warnings'] == ['w']


def test_delegated_module_that_cannot_reach_the_host_reports_unreachable(run_service):
    action = make_action(
        service_action, {'name': 'recording_server', 'state': 'started', 'host': 'nvr01', 'username': 'u'}, transport='ssh'
    )
    module_result = {'failed': True, 'unreachable': True, 'msg': 'nvr01: cannot connect'}
    with mock.patch.object(action, '_execute_module', return_value=module_result):
        result = action.run(task_vars={})
    assert result['unreachable'] is True and 'failed' not in result


@pytest.fixture
def no_wire():
    """The real task logic, with a WS-Man client that must never be built, and a module that must never run."""
    with mock.patch.object(tasks, 'WsmanClient', side_effect=AssertionError('a client was built')) as client:
        yield client


BAD_HOST = '127.0.0.9/x?y='


@pytest.mark.parametrize('transport', ['winrm', 'local', 'ssh'], ids=['inventory', 'delegate', 'module'])
def test_a_bad_ansible_host_is_refused_before_anything_is_sent(no_wire, transport):
    options = dict(WINRM_OPTIONS, remote_addr=BAD_HOST)
    task_vars = dict(DELEGATING_HOST_VARS, ansible_host=BAD_HOST)
    action = make_action(service_info_action, {}, transport=transport, options=options)
    with mock.patch.object(action, '_execute_module', side_effect=AssertionError('the module ran')):
        result = action.run(task_vars=task_vars)
    assert result['failed'] is True and 'unreachable' not in result
    assert "host '127.0.0.9/x?y=' from inventory variable ansible_host is not a DNS name" in result['msg']
    no_wire.assert_not_called()


def test_a_bad_psrp_path_names_the_psrp_variable(no_wire):
    options = {'remote_addr': 'nvr09', 'remote_user': 'ops', 'remote_password': 'pw', 'path': 'wsman?x=1'}
    action = make_action(service_info_action, {}, transport='psrp', options=options)
    result = action.run(task_vars={'ansible_psrp_path': 'wsman?x=1'})
    assert "path 'wsman?x=1' from inventory variable ansible_psrp_path is not a plain absolute path" in result['msg']
    no_wire.assert_not_called()
