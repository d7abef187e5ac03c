# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source xprotect.go.service_status against simulated hosts, driven with an asyncio.Queue."""

from __future__ import annotations

import asyncio
import json
import os
import runpy
import shutil
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _maintenance as maintenance
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_watch import HostWatch, Target
from tests.helpers import COLLECTION_LINK
from eda_helpers import RECORDING_SERVER, of_type, quick_overrides, run_watch, write_inventory

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SOURCE_IN_REPO = os.path.join('extensions', 'eda', 'plugins', 'event_source', 'service_status.py')


def test_initial_state_of_every_service_then_one_round_trip_per_host_per_interval(sim_fleet, tmp_path):
    fleet = sim_fleet(3, profile_mix='standard=2,custom=1', overrides_per_host=quick_overrides(3))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml', xprotect_go_maintenance_dir=str(tmp_path / 'm'))
    events, watch = run_watch({'inventory': inventory, 'interval': '0.3'}, 1.6)
    initial = of_type(events, 'service_state', initial=True)
    by_host = {name: sorted(e['service'] for e in initial if e['host'] == name) for name in ('xpgo-001', 'xpgo-002', 'xpgo-003')}
    assert by_host['xpgo-001'] == by_host['xpgo-002'] == sorted(catalog.SERVICE_KEYS)
    assert by_host['xpgo-003'] == sorted(catalog.CORE_KEYS), 'a Custom installation has no Event Server and no Mobile Server'
    assert len(events) == len(initial), 'nothing changed, so nothing more is said'
    for item in initial:
        assert item['state'] == 'started' and item['previous_state'] is None and item['maintenance'] is False
        assert item['verdict'] == 'recording', 'healthy hosts record (docs/health.md)'
    assert all(item['meta'] == {'hosts': item['xprotect_go']['host']} for item in events)
    for host, running in zip(watch.hosts, fleet.hosts, strict=False):
        assert 2 <= host.reads <= 7
        assert host.round_trips == host.reads, 'one WS-Management round trip per read'
        assert running.stats.as_dict()['soap_requests'] == host.reads
    assert fleet.password not in json.dumps(events)


def test_the_plugins_main_fills_an_asyncio_queue_from_ansible_inventory(sim_fleet, tmp_path, monkeypatch):
    """The entry point ansible-rulebook calls, as it calls it: main(queue, args) with templated (text) arguments."""
    fleet = sim_fleet(2, profile_mix='standard=1,custom=1')
    monkeypatch.setenv('ANSIBLE_INVENTORY', write_inventory(fleet, tmp_path / 'inventory.yml'))
    plugin = runpy.run_path(str(COLLECTION_LINK / SOURCE_IN_REPO))
    queue = asyncio.Queue()
    asyncio.run(plugin['main'](queue, {'interval': '0.5', 'shutdown_after': '1.2', 'eda_feedback_queue': None}))
    events = [queue.get_nowait() for _index in range(queue.qsize())]
    assert sorted((e['xprotect_go']['host'], e['xprotect_go']['service']) for e in events) == sorted(
        [('xpgo-001', key) for key in catalog.SERVICE_KEYS] + [('xpgo-002', key) for key in catalog.CORE_KEYS]
    )
    assert all(e['xprotect_go']['initial'] and e['meta'] == {'hosts': e['xprotect_go']['host']} for e in events)


def test_a_stop_is_a_change_then_a_heal(sim_fleet, tmp_path, control):
    fleet = sim_fleet(2, overrides_per_host=quick_overrides(2))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml', xprotect_go_maintenance_dir=str(tmp_path / 'm'))
    events, dummy = run_watch({'inventory': inventory, 'interval': 0.2}, 1.5, steps=[(0.7, lambda: control.stop(fleet.hosts[1]))])
    change = of_type(events, 'service_state', 'xpgo-002', initial=False)
    assert [(e['service'], e['previous_state'], e['state'], e['windows_state'], e['exit_code']) for e in change] == [
        ('recording_server', 'started', 'stopped', 'Stopped', 1067)
    ]
    assert change[0]['name'] == RECORDING_SERVER and change[0]['process_id'] == 0 and change[0]['previous_process_id'] > 0
    heal = of_type(events, 'heal')
    assert len(heal) == 1 and heal[0]['host'] == 'xpgo-002'
    assert {
        key: heal[0][key] for key in ('service', 'name', 'state', 'exit_code', 'attempt', 'max_per_hour', 'healing', 'max_concurrent')
    } == {
        'service': 'recording_server',
        'name': RECORDING_SERVER,
        'state': 'stopped',
        'exit_code': 1067,
        'attempt': 1,
        'max_per_hour': 3,
        'healing': 1,
        'max_concurrent': 1,
    }
    order = [
        item['xprotect_go']['type']
        for item in events
        if item['xprotect_go']['host'] == 'xpgo-002' and not item['xprotect_go'].get('initial')
    ]
    assert order == ['service_state', 'heal']
    assert not of_type(events, 'service_state', 'xpgo-001', initial=False)


def test_a_recording_server_stopped_at_the_start_is_healed_but_a_disabled_one_never(sim_fleet, tmp_path, control):
    fleet = sim_fleet(
        2,
        overrides_per_host=[
            {RECORDING_SERVER: {'State': 'Stopped', 'ExitCode': 1067}},
            {RECORDING_SERVER: {'State': 'Stopped', 'ExitCode': 0, 'StartMode': 'Disabled'}},
        ],
    )
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml', rolling_restart_max_recording_servers_down=2)
    events, dummy = run_watch({'inventory': inventory, 'interval': 0.2}, 0.8)
    assert [(e['host'], e['attempt']) for e in of_type(events, 'heal')] == [('xpgo-001', 1)]
    disabled = of_type(events, 'service_state', 'xpgo-002', service='recording_server')
    assert disabled[0]['state'] == 'stopped' and disabled[0]['start_mode'] == 'disabled'


def test_a_process_that_changed_between_two_reads_is_a_change(sim_fleet, tmp_path, control):
    fleet = sim_fleet(1, overrides_per_host=quick_overrides(1))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml')

    def restart_unseen():
        control.stop(fleet.hosts[0], exit_code=0)
        control.configure(fleet.hosts[0], RECORDING_SERVER, State='Running')

    events, dummy = run_watch({'inventory': inventory, 'interval': 0.3, 'heal': False}, 1.2, steps=[(0.5, restart_unseen)])
    change = of_type(events, 'service_state', initial=False)
    assert len(change) == 1 and change[0]['state'] == change[0]['previous_state'] == 'started'
    assert change[0]['process_id'] != change[0]['previous_process_id']
    assert not of_type(events, 'heal'), 'heal: false only watches'


def test_a_host_that_stops_answering_is_said_once_tried_with_back_off_and_welcomed_back(sim_fleet, tmp_path, control):
    fleet = sim_fleet(2, overrides_per_host=quick_overrides(2))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml')
    down, up = fleet.hosts[1], fleet.hosts[0]
    holder, tries = {}, {}

    def refuse():
        tries['before'] = holder['watch'].hosts[1].reads
        control.faults(down, refuse=True)

    def answer():
        tries['during'] = holder['watch'].hosts[1].reads - tries['before']
        control.faults(down)

    events, watch = run_watch(
        {'inventory': inventory, 'interval': 0.2, 'max_backoff': 0.8}, 4.0, steps=[(0.5, refuse), (2.6, answer)], holder=holder
    )
    lost = of_type(events, 'host_unreachable')
    assert len(lost) == 1 and lost[0]['host'] == 'xpgo-002' and lost[0]['kind'] == 'unreachable'
    assert lost[0]['retry_in'] == 0.2
    assert 'WinRM listener' in lost[0]['message'] and fleet.password not in lost[0]['message']
    back = of_type(events, 'host_reachable')
    assert len(back) == 1 and back[0]['host'] == 'xpgo-002' and 1.0 < back[0]['down_for'] < 3.5
    assert not of_type(events, 'service_state', 'xpgo-002', initial=False), 'nothing changed while it was away'
    # 2.1 s away, tried after 0.2, 0.4, 0.8, 0.8 s (the back-off): about 5 tries where 10 reads would have been.
    assert 1 <= tries['during'] <= 6
    assert up.stats.as_dict()['soap_requests'] == watch.hosts[0].reads


def test_hosts_that_time_out_do_not_hold_up_the_reads_of_the_others(sim_fleet, tmp_path, control):
    """One worker for the answering hosts: a host that takes its whole timeout to fail moves to a pool of its own."""
    fleet = sim_fleet(3, overrides_per_host=quick_overrides(3))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml')
    control.faults(fleet.hosts[2], delay=6.0)
    events, watch = run_watch(
        {'inventory': inventory, 'interval': 0.2, 'concurrency': 1, 'connection_timeout': 2, 'operation_timeout': 1, 'max_backoff': 0.4},
        5.0,
    )
    lost = of_type(events, 'host_unreachable')
    assert [(e['host'], e['kind']) for e in lost] == [('xpgo-003', 'timeout')]
    first, second, slow = watch.hosts
    assert slow.reads <= 3, 'every try takes 2 s'
    # Held up by the slow host's first try only (2 s of 5), never by its next ones.
    assert first.reads >= 8 and second.reads >= 8, (first.reads, second.reads)


def test_the_back_off_doubles_from_the_interval_up_to_its_limit():
    host = HostWatch(Target('h', None), '/nonexistent')
    waits = []
    for failures in range(7):
        host.failures = failures
        waits.append(host.retry_in(10.0, 60.0))
    assert waits == [10.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]


def test_maintenance_marks_the_events_and_keeps_every_heal_away(sim_fleet, tmp_path, control):
    fleet = sim_fleet(2, overrides_per_host=quick_overrides(2))
    switches = tmp_path / 'switches'
    maintenance.set_switch(str(switches), 'xpgo-002', reason='disk swap')
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml', xprotect_go_maintenance_dir=str(switches))

    def fleet_wide():
        maintenance.set_switch(str(switches), None)
        control.stop(fleet.hosts[0])

    events, dummy = run_watch(
        {'inventory': inventory, 'interval': 0.2}, 1.6, steps=[(0.5, lambda: control.stop(fleet.hosts[1])), (0.9, fleet_wide)]
    )
    assert all(e['maintenance'] for e in of_type(events, 'service_state', 'xpgo-002'))
    assert not any(e['maintenance'] for e in of_type(events, 'service_state', 'xpgo-001', initial=True))
    stops = of_type(events, 'service_state', state='stopped')
    assert sorted(e['host'] for e in stops) == ['xpgo-001', 'xpgo-002'] and all(e['maintenance'] for e in stops)
    assert not of_type(events, 'heal') and not of_type(events, 'deferred')


def test_a_heal_waits_while_the_limit_of_hosts_is_being_healed(sim_fleet, tmp_path, control):
    fleet = sim_fleet(2, overrides_per_host=quick_overrides(2))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml', rolling_restart_max_recording_servers_down=1)

    def both():
        control.stop(fleet.hosts[0])
        control.stop(fleet.hosts[1])

    events, dummy = run_watch({'inventory': inventory, 'interval': 0.2}, 1.2, steps=[(0.5, both)])
    heals, waits = of_type(events, 'heal'), of_type(events, 'deferred')
    assert len(heals) == 1 and len(waits) == 1 and heals[0]['host'] != waits[0]['host']
    assert waits[0]['healing'] == 1 and waits[0]['max_concurrent'] == 1 and 'waits to be started' in waits[0]['message']


def test_a_recording_server_that_keeps_stopping_is_healed_n_times_then_given_up_on(sim_fleet, tmp_path, control):
    fleet = sim_fleet(1, overrides_per_host=quick_overrides(1))
    inventory = write_inventory(fleet, tmp_path / 'inventory.yml', xprotect_go_heal_max_per_hour=2)
    host = fleet.hosts[0]

    def heal():  # what the heal playbook would do
        control.configure(host, RECORDING_SERVER, State='Running')

    events, dummy = run_watch(
        {'inventory': inventory, 'interval': 0.2},
        3.0,
        steps=[
            (0.4, lambda: control.stop(host)),
            (0.9, heal),
            (1.3, lambda: control.stop(host)),
            (1.8, heal),
            (2.2, lambda: control.stop(host)),
        ],
    )
    assert [e['attempt'] for e in of_type(events, 'heal')] == [1, 2]
    giving_up = of_type(events, 'giving_up')
    assert len(giving_up) == 1
    assert giving_up[0]['attempts'] == 2 and giving_up[0]['max_per_hour'] == 2
    assert 'stopped again after 2 heal(s) within the last hour' in giving_up[0]['message']


def test_hosts_and_settings_from_explicit_arguments_and_the_environment(sim_fleet, tmp_path):
    fleet = sim_fleet(1, auth='ntlm')
    host = fleet.hosts[0]
    environ = {'XPROTECT_GO_USERNAME': fleet.username, 'XPROTECT_GO_PASSWORD': fleet.password}
    events, dummy = run_watch(
        {'hosts': [host.address], 'port': str(host.port), 'scheme': 'http', 'transport': 'ntlm', 'maintenance_dir': str(tmp_path)},
        0.8,
        environ=environ,
    )
    assert {e['host'] for e in of_type(events, 'service_state', initial=True)} == {host.address}
    assert fleet.password not in json.dumps(events)


def test_a_vaulted_and_templated_password_in_group_vars(sim_fleet, tmp_path):
    pytest.importorskip('ansible')
    from ansible.parsing.vault import VaultLib, VaultSecret

    fleet = sim_fleet(1)
    inventory = fleet.inventory()
    group = inventory['all']['children']['xprotect']['vars']
    group['ansible_password'] = '{{ vault_xprotect_password }}'
    (tmp_path / 'vault-pass').write_text('vault-pass-1\n')
    vault = VaultLib([('default', VaultSecret(b'vault-pass-1'))])
    encrypted = vault.encrypt(fleet.password).decode()
    (tmp_path / 'group_vars').mkdir()
    (tmp_path / 'group_vars' / 'xprotect.yml').write_text('vault_xprotect_password: !vault |\n' + textwrap.indent(encrypted, '  ') + '\n')
    import yaml

    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    events, dummy = run_watch({'inventory': str(tmp_path / 'inventory.yml'), 'vault_password_file': str(tmp_path / 'vault-pass')}, 0.8)
    assert len(of_type(events, 'service_state', initial=True)) == 6
    assert fleet.password not in json.dumps(events)


def test_the_plugin_file_finds_the_collection_through_an_unresolved_symlink(tmp_path):
    """ansible-rulebook runs the file with runpy: it must import the collection it sits in, not another copy."""
    link = tmp_path / 'collections' / 'ansible_collections' / 'xprotect' / 'go'
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO_ROOT)
    plugin = link / SOURCE_IN_REPO
    code = (
        'import runpy, sys; module = runpy.run_path(sys.argv[1]); '
        'from ansible_collections.xprotect.go.plugins.plugin_utils import _fleet_watch; '
        'print(_fleet_watch.__file__); print(callable(module["main"]))'
    )
    environ = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    result = subprocess.run(
        [sys.executable, '-c', code, str(plugin)], capture_output=True, text=True, check=True, cwd=str(tmp_path), env=environ, timeout=120
    )
    imported, is_callable = result.stdout.split()
    assert imported.startswith(str(link)) and is_callable == 'True'


def test_the_plugin_file_finds_an_installed_collection(tmp_path):
    """Installed (a real directory, as ansible-galaxy makes it), it imports its own copy of the collection's code."""
    installed = tmp_path / 'collections' / 'ansible_collections' / 'xprotect' / 'go'
    for part in ('plugins', 'extensions'):
        shutil.copytree(os.path.join(REPO_ROOT, part), installed / part, ignore=shutil.ignore_patterns('__pycache__'))
    code = (
        'import runpy, sys; module = runpy.run_path(sys.argv[1]); '
        'from ansible_collections.xprotect.go.plugins.module_utils import _wsman; print(_wsman.__file__)'
    )
    environ = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    result = subprocess.run(
        [sys.executable, '-c', code, str(installed / SOURCE_IN_REPO)],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(tmp_path),
        env=environ,
        timeout=120,
    )
    assert result.stdout.strip() == str(installed / 'plugins' / 'module_utils' / '_wsman.py')


def test_the_plugin_says_what_to_do_outside_a_collections_tree(tmp_path):
    copy = tmp_path / 'service_status.py'
    copy.write_text((open(os.path.join(REPO_ROOT, SOURCE_IN_REPO), encoding='utf-8')).read())
    environ = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
    result = subprocess.run(
        [sys.executable, '-c', 'import runpy, sys; runpy.run_path(sys.argv[1])', str(copy)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=environ,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0 and 'ansible_collections/xprotect/go' in result.stderr
