# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad input gets a clear error before anything is sent.

One simulated host per row: the row's task runs on its host only (every way in), and the host's
request counter proves nothing reached it. A last host runs a valid task, so the counters do count.
Rows of docs/reliability.md ("Bad input"); the WQL-injection and wildcard names of the module's
own tests (test_service_failures.py::test_unsafe_name_is_refused_before_anything_is_sent) are repeated
here for the delegated way and for service_names, which service_info also puts into its query.
Rows with inventory variables (HOST_VARS) give the row's host a bad endpoint: a host with a path,
query, user information or port in it, a path with a query. Several aim at the row's own simulated
host ({address}, {port}), so a request that left with the credentials would show in its counter.
"""

from __future__ import annotations

import pytest

from tests.helpers import WAYS_IN

from .helpers import failure, one_clear_line, play, write_yaml

SERVICE = 'xprotect.go.service'
INFO = 'xprotect.go.service_info'
INJECTION = "x' OR Name LIKE '%"
INVALID_NAME = 'invalid service name'
ALLOWED = 'use letters, digits, space and _ . ( ) $ # @ + -'
NOT_A_HOST = 'is not a DNS name, IPv4 or IPv6 address'
NOT_A_PATH = 'is not a plain absolute path'
SECRET = 'Hunter2'

# row -> (module, arguments, message fragments)
ROWS = {
    'unknown_service_key': (
        SERVICE,
        {'name': 'recording_server', 'state': 'started', 'service_names': {'recorder': 'Recorder'}},
        ["service_names has an unknown key 'recorder'; the keys are recording_server, image_server"],
    ),
    'service_info_unknown_service_key': (
        INFO,
        {'service_names': {'recorder': 'Recorder'}},
        ["service_names has an unknown key 'recorder'"],
    ),
    'name_with_double_quotes': (
        SERVICE,
        {'name': 'Milestone "Recording" Server', 'state': 'stopped'},
        ['invalid service name \'Milestone "Recording" Server\'', ALLOWED],
    ),
    'name_with_single_quote': (SERVICE, {'name': "O'Brien Recorder", 'state': 'stopped'}, [INVALID_NAME, ALLOWED]),
    'name_with_wildcard_percent': (SERVICE, {'name': 'Milestone%', 'state': 'stopped'}, [INVALID_NAME + " 'Milestone%'"]),
    'name_with_wildcard_brackets': (SERVICE, {'name': 'Milestone [A-Z]*', 'state': 'stopped'}, [INVALID_NAME]),
    'name_with_wql_injection': (SERVICE, {'name': INJECTION, 'state': 'stopped'}, [INVALID_NAME]),
    'name_with_newline': (SERVICE, {'name': 'Milestone\nRecorder', 'state': 'stopped'}, [INVALID_NAME]),
    'service_names_with_wql_injection': (
        SERVICE,
        {'name': 'recording_server', 'state': 'stopped', 'service_names': {'recording_server': INJECTION}},
        [INVALID_NAME],
    ),
    'service_info_service_names_with_wql_injection': (INFO, {'service_names': {'recording_server': INJECTION}}, [INVALID_NAME]),
    'empty_name_list': (SERVICE, {'name': [], 'state': 'started'}, ['name must list at least one service key, set or service name']),
    'empty_name': (SERVICE, {'name': [''], 'state': 'started'}, [INVALID_NAME + " ''"]),
    'wrong_type_timeout': (
        SERVICE,
        {'name': 'recording_server', 'state': 'started', 'timeout': 'soon'},
        ["argument 'timeout' is of type str and we were unable to convert to int"],
    ),
    'wrong_type_name': (SERVICE, {'name': {'recording_server': True}, 'state': 'started'}, ['name', 'cannot be converted to a list']),
    'wrong_type_force_dependents': (
        SERVICE,
        {'name': 'recording_server', 'state': 'stopped', 'force_dependents': 'perhaps'},
        ["argument 'force_dependents' is of type str and we were unable to convert to bool", "The value 'perhaps' is not a valid boolean"],
    ),
    'wrong_type_service_names': (INFO, {'service_names': ['recording_server']}, ['service_names', 'cannot be converted to a dict']),
    'unknown_state': (
        SERVICE,
        {'name': 'recording_server', 'state': 'running'},
        ['value of state must be one of: started, stopped, restarted, got: running'],
    ),
    'unknown_option': (SERVICE, {'name': 'recording_server', 'state': 'started', 'timout': 30}, ['Unsupported parameters', 'timout']),
    'negative_timeout': (
        SERVICE,
        {'name': 'recording_server', 'state': 'started', 'timeout': -5},
        ['timeout must be between 1 and 86400 seconds, got -5'],
    ),
    'zero_timeout': (
        SERVICE,
        {'name': 'recording_server', 'state': 'started', 'timeout': 0},
        ['timeout must be between 1 and 86400 seconds, got 0'],
    ),
    'absurd_timeout': (
        SERVICE,
        {'name': 'recording_server', 'state': 'started', 'timeout': 999999999},
        ['timeout must be between 1 and 86400 seconds, got 999999999'],
    ),
    'negative_connection_timeout': (INFO, {'connection_timeout': -1}, ['connection_timeout must be between 1 and 3600 seconds, got -1']),
    'absurd_operation_timeout': (INFO, {'operation_timeout': 100000}, ['operation_timeout must be between 1 and 3600 seconds, got 100000']),
    'absurd_port': (INFO, {'port': 70000}, ['port must be between 1 and 65535, got 70000']),
    'conflicting_state_and_start_mode': (
        SERVICE,
        {'name': 'recording_server', 'state': 'started', 'start_mode': 'disabled'},
        ['state started and start_mode disabled contradict each other'],
    ),
    'conflicting_timeouts': (
        INFO,
        {'connection_timeout': 5, 'operation_timeout': 10},
        ['connection_timeout (5) must be greater than operation_timeout (10)'],
    ),
    'neither_state_nor_start_mode': (SERVICE, {'name': 'recording_server'}, ['one of the following is required: state, start_mode']),
    'zero_port': (INFO, {'port': 0}, ['port must be between 1 and 65535, got 0 (from the task option port)']),
    'inventory_port_out_of_range': (INFO, {}, ['port must be between 1 and 65535, got 65536 (from inventory variable ansible_port)']),
    'host_with_path_and_query': (
        INFO,
        {},
        ["host '127.0.0.9/x?y=' from inventory variable ansible_host " + NOT_A_HOST, "'/' is not allowed"],
    ),
    'host_with_port_path_and_query': (INFO, {}, ['from inventory variable ansible_host ' + NOT_A_HOST, "'/' is not allowed"]),
    'host_with_userinfo': (
        INFO,
        {},
        ["host '***@", 'from inventory variable ansible_host ' + NOT_A_HOST, "'@' is not allowed: no user information in the host"],
    ),
    'host_with_whitespace': (INFO, {}, ['from inventory variable ansible_host ' + NOT_A_HOST, 'whitespace or control characters']),
    'host_with_port': (INFO, {}, ['from inventory variable ansible_host ' + NOT_A_HOST, 'a port goes in the port setting']),
    'task_host_with_path_and_query': (INFO, {'host': 'nvr01.example.com/wsman?x=1'}, ['from the task option host ' + NOT_A_HOST]),
    'host_with_ipv6_zone_id': (INFO, {'host': 'fe80::1%eth0'}, ['from the task option host ' + NOT_A_HOST, 'IPv6 zone ids']),
    'path_with_query': (INFO, {}, ["path '/wsman?x=1' from inventory variable ansible_winrm_path " + NOT_A_PATH]),
    'path_with_double_slash': (INFO, {}, ["path '//evil/wsman' from inventory variable ansible_winrm_path " + NOT_A_PATH]),
    'path_with_traversal': (INFO, {'path': '/../wsman'}, ["path '/../wsman' from the task option path " + NOT_A_PATH]),
}
# Inventory variables of a row's host, {address} and {port} being its own listener's.
HOST_VARS = {
    'inventory_port_out_of_range': {'ansible_port': 65536},
    'host_with_path_and_query': {'ansible_host': '127.0.0.9/x?y='},
    'host_with_port_path_and_query': {'ansible_host': '{address}:{port}/x?y='},
    'host_with_userinfo': {'ansible_host': 'xpgo:' + SECRET + '@{address}'},
    'host_with_whitespace': {'ansible_host': '{address} evil.example'},
    'host_with_port': {'ansible_host': '{address}:{port}'},
    'path_with_query': {'ansible_winrm_path': '/wsman?x=1'},
    'path_with_double_slash': {'ansible_winrm_path': '//evil/wsman'},
}
# Text a row's message must not show.
ABSENT = {'host_with_userinfo': [SECRET, 'xpgo:']}
HOSTS = {row: 'xpgo-%03d' % (index + 1) for index, row in enumerate(ROWS)}
CONTROL_HOST = 'xpgo-%03d' % (len(ROWS) + 1)
# Every option some row sets: each host's task passes its row's arguments and omits the others.
OPTIONS = sorted({option for dummy, arguments, dummy in ROWS.values() for option in arguments})


def tasks(way):
    """One task per module; a host runs the one of its row (inventory variable xpgo_row), with its row's arguments."""
    return [
        {
            'name': '%s: %s' % (way, module),
            module: {option: '{{ xpgo_row.arguments.%s | default(omit) }}' % option for option in OPTIONS},
            'when': 'xpgo_row.module == %r' % module,
            'ignore_errors': True,
        }
        for module in (SERVICE, INFO)
    ]


@pytest.fixture(scope='module')
def bad_input(module_fleets, module_dir, module_runner):
    """(PlaybookRun, {row: request stats of its host}, control host's stats) of one run of every row, every way in."""
    fleet = module_fleets(len(ROWS) + 1)
    inventory = fleet.inventory()
    for row, (module, arguments, _dummy) in ROWS.items():
        host = inventory['all']['children']['xprotect']['hosts'][HOSTS[row]]
        host['xpgo_row'] = {'module': module, 'arguments': arguments}
        own = {'address': host['ansible_host'], 'port': host['ansible_port']}
        host.update({name: value.format(**own) if isinstance(value, str) else value for name, value in HOST_VARS.get(row, {}).items()})
    path = write_yaml(module_dir / 'bad-input-inventory.yml', inventory)
    plays = [play(tasks(way), hosts='xprotect:!' + CONTROL_HOST, way=way, name='bad input ' + way) for way in WAYS_IN]
    plays.append(play([{'name': 'valid', INFO: {}}], hosts=CONTROL_HOST, name='control'))
    run = module_runner(plays, path, env={'ANSIBLE_FORKS': '30'})
    stats = {running.name: running.stats.as_dict() for running in fleet.hosts}
    return run, {row: stats[host] for row, host in HOSTS.items()}, stats[CONTROL_HOST]


def test_the_counters_count(bad_input):
    """The control host, with the same inventory, answered a valid task: the zero counters of the rows mean something."""
    run, dummy, control = bad_input
    assert run.recap[CONTROL_HOST]['ok'] == 1 and run.recap[CONTROL_HOST]['failed'] == 0
    assert control['http_requests'] >= 1 and control['soap_requests'] == 1
    assert 'Traceback' not in run.stdout + run.stderr


@pytest.mark.parametrize('way', WAYS_IN)
@pytest.mark.parametrize('row', list(ROWS))
def test_bad_input_is_refused_before_anything_is_sent(bad_input, row, way):
    run, stats, dummy = bad_input
    result = failure(run, HOSTS[row], '%s: %s' % (way, ROWS[row][0]))
    one_clear_line(result.result['msg'], *ROWS[row][2])
    assert not [text for text in ABSENT.get(row, ()) if text in result.result['msg']], result.result['msg']
    assert result.status == 'failed'
    assert stats[row]['http_requests'] == 0, 'a request reached the host'
