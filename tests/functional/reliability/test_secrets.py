# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The password never shows, on any failure path, at -vvvv.

One run of a fleet where every host takes a different failure path of the matrix (wire faults,
service faults, every bad-input row), every way in (the delegated plays also pass the password
as a task option through module_defaults), plus the services role's settle check. Then
everything Ansible wrote is searched: stdout, stderr, the ANSIBLE_LOG_PATH log, the junit XML
(with task arguments shown) and every registered result, dumped to a file with copy.
Row "Secrets" of docs/reliability.md.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.helpers import WAYS_IN

from .helpers import RECORDING_SERVER, Trigger, play, quick_overrides, write_yaml
from .test_bad_input import HOST_VARS, ROWS

pytestmark = pytest.mark.slow

USERNAME = 'xpgo-admin'
PASSWORD = "N1ght%Shift'S3cret&pw"
WRONG_PASSWORD = 'Wr0ng-N1ght-Pw!'
# Distinctive pieces too: a cut or re-encoded password must not show either.
SECRETS = [
    PASSWORD,
    WRONG_PASSWORD,
    'S3cret',
    'Wr0ng-N1ght',
    quote(PASSWORD, safe=''),
    json.dumps(PASSWORD)[1:-1],
    base64.b64encode(('%s:%s' % (USERNAME, PASSWORD)).encode()).decode(),
    base64.b64encode(('%s:%s' % (USERNAME, WRONG_PASSWORD)).encode()).decode(),
]

ANALYTICS = 'XPGO Analytics'
RESTART = {'name': 'standard', 'state': 'restarted', 'timeout': 2}
# Host name -> (simulated service settings, wire faults, inventory variables, arguments of the service task).
PATHS = {
    'refused': ({}, {'refuse': True}, {}, RESTART),
    'reset': ({}, {'reset': True}, {}, RESTART),
    'tls-untrusted': ({}, {}, {'ansible_winrm_ca_trust_path': None}, RESTART),
    'http-401': ({}, {}, {'ansible_password': WRONG_PASSWORD}, RESTART),
    'http-500': ({}, {'http_500': True}, {}, RESTART),
    'garbage': ({}, {'malformed': 'garbage'}, {}, RESTART),
    'truncated': ({}, {'malformed': 'truncated'}, {}, RESTART),
    'slow': ({}, {'delay': 4}, {'ansible_winrm_read_timeout_sec': 2, 'ansible_winrm_operation_timeout_sec': 1}, RESTART),
    'endless': ({}, {'endless_enumeration': True}, {}, RESTART),
    'fails-to-start': ({RECORDING_SERVER: {'fail_start_exit_code': 1067}}, {}, {}, RESTART),
    'stuck-start': ({RECORDING_SERVER: {'stuck': 'Start Pending'}}, {}, {}, RESTART),
    'stuck-stop': ({'Milestone Log Check Service': {'stuck': 'Stop Pending'}}, {}, {}, RESTART),
    'disabled': (
        {'Milestone Image Server': {'State': 'Stopped', 'StartMode': 'Disabled'}},
        {},
        {},
        {'name': 'image_server', 'state': 'started'},
    ),
    'access-denied': ({RECORDING_SERVER: {'deny_users': [USERNAME]}}, {}, {}, RESTART),
    'dependents': ({ANALYTICS: {'add': True, 'State': 'Running', 'depends_on': [RECORDING_SERVER]}}, {}, {}, RESTART),
    'not-installed': ({}, {}, {}, {'name': 'Milestone Nonexistent', 'state': 'started'}),
    'reset-mid-restart': ({}, {}, {}, RESTART),
    'settle-crash': ({}, {}, {}, None),
}
# Each bad-input row with its own inventory variables too ({address} and {port}: the host's own listener).
PATHS.update(
    {
        'bad-' + row.replace('_', '-'): ({}, {}, dict(HOST_VARS.get(row, {}), xpgo_row={'module': module, 'arguments': arguments}), None)
        for row, (module, arguments, dummy) in ROWS.items()
    }
)
OPTIONS = sorted({option for dummy, arguments, dummy in ROWS.values() for option in arguments})
IGNORE = {'ignore_errors': True, 'ignore_unreachable': True}


REGISTERED = ('read', 'act', 'bad_service', 'bad_service_info')


def tasks(way):
    """Read, act and feed bad input; every result registered as <way>_<what>."""
    bad = [
        dict(
            {
                'name': '%s: bad input to %s' % (way, module),
                module: {option: '{{ xpgo_row.arguments.%s | default(omit) }}' % option for option in OPTIONS},
                'when': 'xpgo_row is defined and xpgo_row.module == %r' % module,
                'register': '%s_bad_%s' % (way, module.rsplit('.', 1)[1]),
            },
            **IGNORE,
        )
        for module in ('xprotect.go.service', 'xprotect.go.service_info')
    ]
    return [
        dict(
            {'name': '%s: read' % way, 'xprotect.go.service_info': {}, 'register': way + '_read', 'when': 'xpgo_row is not defined'},
            **IGNORE,
        ),
        dict(
            {'name': '%s: act' % way, 'xprotect.go.service': '{{ xpgo_task }}', 'register': way + '_act', 'when': 'xpgo_task is defined'},
            **IGNORE,
        ),
    ] + bad


# Every registered result of every host, written by one copy task.
DUMP = {
    'name': 'dump the registered results',
    'ansible.builtin.copy': {
        'content': '{{ dict(groups.xprotect | map("extract", hostvars) | map(attribute="inventory_hostname")'
        ' | zip(groups.xprotect | map("extract", hostvars) | map("dict2items")'
        ' | map("selectattr", "key", "in", registered) | map("items2dict"))) | to_nice_json }}',
        'dest': '{{ xpgo_dump }}',
        'mode': '0600',
    },
    'vars': {
        'registered': ['%s_%s' % (way, what) for way in WAYS_IN for what in REGISTERED]
        + ['services_result', 'services_observed', 'services_settled']
    },
}


@pytest.fixture
def everything(sim_fleet, runner, tmp_path):
    """Run every failure path at -vvvv; returns (PlaybookRun, {file name: text} of everything written, fleet)."""
    names = list(PATHS)
    overrides = quick_overrides(['standard'] * len(names), {index: PATHS[name][0] for index, name in enumerate(names)})
    fleet = sim_fleet(len(names), username=USERNAME, password=PASSWORD, overrides_per_host=overrides, names=names)
    inventory = fleet.inventory()
    dump = tmp_path / 'registered.json'
    for running in fleet.hosts:
        settings, faults, variables, task = PATHS[running.name]
        host = inventory['all']['children']['xprotect']['hosts'][running.name]
        own = {'address': host['ansible_host'], 'port': host['ansible_port']}
        host.update({name: value.format(**own) if isinstance(value, str) else value for name, value in variables.items()})
        if task:
            inventory['all']['children']['xprotect']['hosts'][running.name]['xpgo_task'] = task
        if faults:
            running.faults.update(**faults)
    path = write_yaml(tmp_path / 'inventory.yml', inventory)

    plays = [
        play(tasks('inventory'), hosts='all:!settle-crash', name='inventory'),
        # The password also as a task option, as a playbook with module_defaults passes it.
        play(
            tasks('delegate'),
            hosts='all:!settle-crash',
            way='delegate',
            name='delegate',
            module_defaults={'group/xprotect.go.all': {'password': '{{ ansible_password }}'}},
        ),
        # The real module: its arguments, password included, travel in the module's payload.
        play(
            tasks('module'),
            hosts='all:!settle-crash',
            way='module',
            name='module',
            module_defaults={'group/xprotect.go.all': {'password': '{{ ansible_password }}'}},
        ),
        # ignore_errors: a play whose every host failed would end the playbook before the dump.
        play(
            [{'ansible.builtin.include_role': {'name': 'xprotect.go.services'}}],
            hosts='settle-crash',
            name='settle',
            vars={'services_state': 'restarted', 'services_settle_seconds': 3},
            ignore_errors=True,
        ),
        play([DUMP], hosts='localhost', name='dump', vars={'xpgo_dump': str(dump)}),
    ]
    log = tmp_path / 'ansible.log'
    mid, crash = fleet.host('reset-mid-restart'), fleet.host('settle-crash')
    with (
        Trigger(mid, 'Milestone Image Server', 'Stopped', lambda: mid.faults.update(reset=True)),
        Trigger(crash, RECORDING_SERVER, 'Stop Pending', lambda: crash.state.configure(RECORDING_SERVER, crash_after_seconds=1.5)),
    ):
        run = runner(plays, path, '-vvvv', env={'ANSIBLE_LOG_PATH': str(log), 'ANSIBLE_FORKS': '50', 'JUNIT_HIDE_TASK_ARGUMENTS': 'False'})
    written = {'stdout': run.stdout, 'stderr': run.stderr, 'ansible.log': log.read_text(encoding='utf-8')}
    written.update({report.name: report.read_text(encoding='utf-8') for report in tmp_path.glob('junit-*/*.xml')})
    written['registered.json'] = dump.read_text(encoding='utf-8')
    return run, written, fleet


def test_the_password_never_shows_on_any_failure_path(everything):
    run, written, fleet = everything
    # The run went down every path: -vvvv, a log, junit reports and a dump of both plays for every host.
    assert 'task path:' in run.stdout and written['ansible.log'].count('fatal: [') >= len(PATHS)
    assert any(name.endswith('.xml') for name in written)
    registered = json.loads(written['registered.json'])
    assert set(registered) == set(PATHS)
    for way in WAYS_IN:
        failed = {
            host
            for host, results in registered.items()
            if any(result.get('failed') or result.get('unreachable') for name, result in results.items() if name.startswith(way))
        }
        assert failed == set(PATHS) - {'settle-crash'}, 'these took no failure path %s: %s' % (way, sorted(set(PATHS) - failed))
    assert registered['settle-crash']['services_settled']['services']['recording_server']['state'] == 'stopped'
    assert 'did not stay up' in run.stdout or 'did not stay up' in written['ansible.log']
    assert 'ReturnValue 2' in written['ansible.log'] and 'exit code 1067' in written['ansible.log']

    leaks = {(secret, name) for secret in SECRETS for name, text in written.items() if secret in text}
    assert not leaks, 'the password shows in: %s' % sorted(name for dummy, name in leaks)
    # The user name may show (it names the account to fix); it is how we know the messages were looked at.
    assert "authentication as '%s'" % USERNAME in run.stdout
