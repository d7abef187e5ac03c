# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance switch: its files, the module's logic and its action plugin."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from ansible_collections.xprotect.go.plugins.action import maintenance as maintenance_action
from ansible_collections.xprotect.go.plugins.module_utils import _maintenance as maintenance


def test_set_read_and_clear_a_host_switch(tmp_path):
    directory = str(tmp_path / 'switches')
    assert maintenance.read(directory, 'nvr07') == {'active': False, 'host': None, 'fleet': None}
    assert maintenance.set_switch(directory, 'nvr07', reason='disk swap', by='ops') is True
    assert maintenance.set_switch(directory, 'nvr07', reason='again') is False, 'an existing switch keeps its record'
    state = maintenance.read(directory, 'nvr07')
    assert state['active'] and state['fleet'] is None
    assert state['host']['reason'] == 'disk swap' and state['host']['by'] == 'ops' and state['host']['since']
    assert oct(os.stat(directory).st_mode & 0o777) == '0o700'
    assert maintenance.read(directory, 'nvr08')['active'] is False
    assert maintenance.clear_switch(directory, 'nvr07') is True
    assert maintenance.clear_switch(directory, 'nvr07') is False
    assert maintenance.read(directory, 'nvr07')['active'] is False


def test_the_directory_defaults_to_the_environment_variable_then_the_home_directory(monkeypatch, tmp_path):
    monkeypatch.setenv('XPROTECT_GO_MAINTENANCE_DIR', str(tmp_path / 'env'))
    assert maintenance.directory_path(None) == str(tmp_path / 'env')
    assert maintenance.directory_path(str(tmp_path / 'given')) == str(tmp_path / 'given')
    monkeypatch.delenv('XPROTECT_GO_MAINTENANCE_DIR')
    assert maintenance.directory_path('') == os.path.expanduser('~/.ansible/xprotect-go/maintenance')


def test_the_fleet_switch_puts_every_host_under_maintenance(tmp_path):
    maintenance.set_switch(str(tmp_path), None, reason='storage migration')
    assert (tmp_path / '_fleet').is_file()
    state = maintenance.read(str(tmp_path), 'any-host')
    assert state['active'] and state['host'] is None and state['fleet']['reason'] == 'storage migration'


@pytest.mark.parametrize(
    'host, name',
    [
        ('nvr07', 'nvr07'),
        ('nvr07.example.com', 'nvr07.example.com'),
        ('_fleet', '%5Ffleet'),
        ('.hidden', '%2Ehidden'),
        ('a/b', 'a%2Fb'),
        ('..x', '%2E.x'),
    ],
)
def test_file_names_are_never_paths_nor_the_fleet_file(host, name):
    assert maintenance.file_name(host) == name
    assert maintenance.host_of(name) == host


@pytest.mark.parametrize('host', ['', '.', '..'])
def test_names_that_are_no_host_are_refused(host):
    with pytest.raises(maintenance.MaintenanceError):
        maintenance.file_name(host)


def test_a_file_an_operator_wrote_by_hand_counts(tmp_path):
    (tmp_path / 'nvr07').write_text('working on it\n')
    assert maintenance.read(str(tmp_path), 'nvr07') == {'active': True, 'host': {}, 'fleet': None}


def test_snapshot_lists_every_switch_and_skips_writes_in_progress(tmp_path):
    maintenance.set_switch(str(tmp_path), 'nvr07')
    maintenance.set_switch(str(tmp_path), None)
    (tmp_path / '.tmp123').write_text('{}')
    fleet, hosts = maintenance.snapshot(str(tmp_path))
    assert fleet is not None and list(hosts) == ['nvr07']
    assert maintenance.snapshot(str(tmp_path / 'absent')) == (None, {})


def test_run_reports_and_changes_with_check_and_diff(tmp_path):
    params = {'state': 'present', 'scope': 'host', 'host': 'nvr07', 'reason': 'r', 'directory': str(tmp_path)}
    result = maintenance.run(params, by='ops', check_mode=True, diff=True)
    assert result['changed'] and result['maintenance'] and result['host_switch']['reason'] == 'r'
    assert result['diff'] == {'before': {'host': False, 'fleet': False}, 'after': {'host': True, 'fleet': False}}
    assert not (tmp_path / 'nvr07').exists(), 'check mode changes nothing'
    assert maintenance.run(params, by='ops')['changed'] is True
    assert maintenance.run(params, by='ops')['changed'] is False
    report = maintenance.run(dict(params, state=None))
    assert report['changed'] is False and report['maintenance'] is True
    cleared = maintenance.run(dict(params, state='absent'), diff=True)
    assert cleared['changed'] and not cleared['maintenance'] and cleared['diff']['after'] == {'host': False, 'fleet': False}


def test_run_for_the_fleet_and_without_a_host(tmp_path):
    result = maintenance.run({'state': 'present', 'scope': 'fleet', 'directory': str(tmp_path)})
    assert result['changed'] and result['fleet_switch'] is not None and result['maintenance']
    with pytest.raises(maintenance.MaintenanceError, match='needs the host option'):
        maintenance.run({'state': 'present', 'scope': 'host', 'directory': str(tmp_path)})


def test_an_unwritable_directory_is_an_error_that_names_it(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(maintenance.MaintenanceError, match='cannot write the maintenance switch'):
        maintenance.set_switch(str(blocker / 'sub'), 'nvr07')


def make_action(args, check_mode=False, diff=False):
    task = mock.MagicMock(args=args, async_val=0, check_mode=check_mode, action='xprotect.go.maintenance')
    connection = mock.MagicMock(transport='winrm')
    connection._shell.tmpdir = None
    play_context = mock.MagicMock(check_mode=check_mode, diff=diff, become=False)
    templar = mock.MagicMock()
    templar.template.side_effect = lambda value: value
    return maintenance_action.ActionModule(task, connection, play_context, loader=None, templar=templar, shared_loader_obj=None)


def test_the_action_plugin_takes_the_host_and_the_directory_from_the_task_vars(tmp_path):
    task_vars = {'inventory_hostname': 'nvr07', 'xprotect_go_maintenance_dir': str(tmp_path)}
    result = make_action({'state': 'present', 'reason': 'stopped by xprotect.go.stop'}).run(task_vars=task_vars)
    assert result['changed'] and result['maintenance'] and result['directory'] == str(tmp_path)
    assert json.loads((tmp_path / 'nvr07').read_text())['reason'] == 'stopped by xprotect.go.stop'
    assert not make_action({}).run(task_vars=task_vars)['changed']
    assert make_action({'state': 'absent'}, check_mode=True).run(task_vars=task_vars)['changed']
    assert (tmp_path / 'nvr07').exists()


def test_the_action_plugin_never_touches_the_connection(tmp_path):
    action = make_action({'state': 'present', 'scope': 'fleet'})
    action.run(task_vars={'inventory_hostname': 'h', 'xprotect_go_maintenance_dir': str(tmp_path)})
    action._connection.exec_command.assert_not_called()
    action._connection.put_file.assert_not_called()
    assert (tmp_path / '_fleet').exists()


def test_the_action_plugin_fails_with_the_message(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    result = make_action({'state': 'present'}).run(task_vars={'inventory_hostname': 'h', 'xprotect_go_maintenance_dir': str(blocker)})
    assert result['failed'] and 'cannot write the maintenance switch' in result['msg']
