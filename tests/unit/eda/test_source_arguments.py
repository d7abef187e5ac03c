# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source's arguments: conversion, checks, and the three places that describe them agreeing."""

from __future__ import annotations

import json
import re
import runpy

import pytest
import yaml

from ansible_collections.xprotect.go.plugins.plugin_utils import _fleet_watch as watch
from ansible_collections.xprotect.go.plugins.plugin_utils._heal_guard import HealGuard
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_targets import ARGUMENTS, WatchError, load_targets, parse_arguments
from tests.helpers import COLLECTION_LINK

PLUGIN_DIR = COLLECTION_LINK / 'extensions' / 'eda' / 'plugins' / 'event_source'


@pytest.fixture(scope='module')
def plugin():
    return runpy.run_path(str(PLUGIN_DIR / 'service_status.py'))


def test_templated_text_becomes_numbers_and_booleans():
    settings = parse_arguments(
        {
            'hosts': 'a, b',
            'interval': '2.5',
            'concurrency': '4',
            'heal': 'false',
            'port': '5985',
            'validate_certs': 'no',
            'max_heals_per_hour': '0',
        },
        {},
    )
    assert settings.hosts == ['a', 'b'] and settings.interval == 2.5 and settings.concurrency == 4
    assert settings.heal is False and settings.max_heals_per_hour == 0
    assert settings.connection_options()['port'] == 5985 and settings.connection_options()['validate_certs'] is False


def test_null_is_unset_so_the_inventory_or_the_default_applies(own_maintenance_dir):
    settings = parse_arguments({'hosts': ['a'], 'interval': None, 'max_heals_per_hour': None, 'maintenance_dir': None}, {})
    assert settings.interval is None and settings.max_heals_per_hour is None
    targets = load_targets(settings, {'XPROTECT_GO_USERNAME': 'u'})
    assert settings.interval == 10.0 and settings.max_concurrent_heals == 1
    assert targets[0].max_per_hour == 3 and targets[0].heal_timeout == 180.0
    assert settings.maintenance_dir == str(own_maintenance_dir), 'XPROTECT_GO_MAINTENANCE_DIR, else the default'


@pytest.mark.parametrize(
    'args, message',
    [
        ({'hosts': ['a'], 'intervall': 5}, 'unknown argument(s) intervall (did you mean interval?)'),
        ({'hosts': ['a'], 'interval': 'soon'}, 'interval from the argument interval must be a number'),
        ({'hosts': ['a'], 'interval': 0}, 'interval from the argument interval must be between 0.1 and 3600'),
        ({'hosts': ['a'], 'concurrency': 2.5}, 'must be a whole number'),
        ({'hosts': ['a'], 'transport': 'telnet'}, 'transport from the argument transport must be one of'),
        ({'hosts': ['a'], 'service_names': {'recording': 'X'}}, 'unknown key'),
        ({}, 'no hosts to watch'),
    ],
)
def test_bad_arguments_are_refused_at_start_naming_the_argument(args, message):
    with pytest.raises(WatchError, match=re.escape(message)):
        parse_arguments(args, {})


def test_a_bad_password_value_is_never_shown():
    with pytest.raises(WatchError) as failure:
        parse_arguments({'hosts': ['a'], 'password': ['Secret-1']}, {})
    assert 'Secret-1' not in str(failure.value)


def test_the_inventory_comes_from_ansible_inventory_and_engine_arguments_are_ignored():
    settings = parse_arguments({'eda_feedback_queue': object()}, {'ANSIBLE_INVENTORY': 'one.yml,two.yml'})
    assert settings.inventory == ['one.yml', 'two.yml']


def test_a_host_without_credentials_is_refused_at_start():
    settings = parse_arguments({'hosts': ['nvr01']}, {})
    with pytest.raises(WatchError, match='host nvr01: no user name'):
        load_targets(settings, {})


def test_inventory_variables_give_the_guardrails_and_the_strictest_fleet_wide_value_wins(tmp_path):
    inventory = {
        'all': {
            'children': {
                'xprotect': {
                    'vars': {
                        'ansible_connection': 'winrm',
                        'ansible_user': 'u',
                        'ansible_password': 'p',
                        'xprotect_go_heal_max_per_hour': 5,
                        'rolling_restart_max_recording_servers_down': 3,
                        'xprotect_go_watch_interval': '4',
                    },
                    'hosts': {
                        'a': {'ansible_host': '127.0.0.2'},
                        'b': {
                            'rolling_restart_max_recording_servers_down': 2,
                            'xprotect_go_watch_interval': 6,
                            'xprotect_go_heal_timeout': 30,
                        },
                    },
                }
            }
        }
    }
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    settings = parse_arguments({'inventory': str(path)}, {})
    targets = load_targets(settings, {})
    assert [(t.name, t.settings.host, t.max_per_hour, t.heal_timeout) for t in targets] == [
        ('a', '127.0.0.2', 5, 180.0),
        ('b', 'b', 5, 30.0),
    ]
    assert settings.max_concurrent_heals == 2 and settings.interval == 4.0
    settings = parse_arguments({'inventory': str(path), 'max_heals_per_hour': 1, 'max_concurrent_heals': 7}, {})
    targets = load_targets(settings, {})
    assert [t.max_per_hour for t in targets] == [1, 1] and settings.max_concurrent_heals == 7


def test_hosts_must_agree_on_the_maintenance_directory(tmp_path):
    inventory = {
        'xprotect': {
            'vars': {'ansible_connection': 'winrm', 'ansible_user': 'u'},
            'hosts': {'a': {'xprotect_go_maintenance_dir': '/one'}, 'b': {'xprotect_go_maintenance_dir': '/two'}},
        }
    }
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    with pytest.raises(WatchError, match='different maintenance directories'):
        load_targets(parse_arguments({'inventory': str(path)}, {}), {})


def test_inventory_problems_name_the_inventory(tmp_path):
    with pytest.raises(WatchError, match='no such file'):
        load_targets(parse_arguments({'inventory': str(tmp_path / 'absent.yml')}, {}), {})
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump({'other': {'hosts': {'a': {}}}}))
    with pytest.raises(WatchError, match="matches 'xprotect'"):
        load_targets(parse_arguments({'inventory': str(path)}, {}), {})


def test_documentation_and_schema_describe_every_argument(plugin):
    documented = yaml.safe_load(plugin['DOCUMENTATION'])['options']
    assert set(documented) == set(ARGUMENTS)
    for name, spec in ARGUMENTS.items():
        option = documented[name]
        assert option['type'] == spec['type'], name
        if 'variable' in spec:
            assert 'default' not in option and spec['variable'] in ' '.join(option['description']), name
        elif spec.get('default') is not None:
            assert option['default'] == spec['default'], name
    schema = json.loads((PLUGIN_DIR / 'schemas' / 'service_status.json').read_text())
    assert set(schema['properties']) == set(ARGUMENTS) and schema['additionalProperties'] is False
    for name, spec in ARGUMENTS.items():
        prop = schema['properties'][name]
        assert 'null' in prop['type'], name
        assert prop.get('minimum') == spec.get('min') and prop.get('enum') == spec.get('choices'), name
        assert prop.get('default') == (None if 'variable' in spec else spec.get('default')), name


def test_every_event_field_is_documented(plugin):
    """EVENTS in the plugin is the one description of the events; the fields the code sets must all be there."""
    documented = set()
    for line in plugin['EVENTS'].splitlines():
        if line.startswith('  ') and ':' in line:
            documented.update(name.strip() for name in line.split(':', 1)[0].split(','))
    host = watch.HostWatch(watch.Target('h', None), '/nonexistent')
    fields = set()
    fields.update(watch.event('service_state', 'h', {})['xprotect_go'])
    fields.update(watch._facts(None))
    guard = HealGuard(1)
    decisions = [guard.consider('a', 'stopped', False, 1, 60, 0), guard.consider('b', 'stopped', False, 1, 60, 0)]
    guard.consider('a', 'started', False, 1, 60, 1)
    decisions.append(guard.consider('a', 'stopped', False, 1, 60, 2))
    assert [decision.kind for decision in decisions] == ['heal', 'deferred', 'giving_up']
    for decision in decisions:
        fields.update(watch.decision_event(host, decision, False)['xprotect_go'])
    fields.update({'initial', 'previous_state', 'previous_process_id', 'service', 'kind', 'message', 'retry_in', 'down_for'})
    assert fields <= documented, fields - documented
