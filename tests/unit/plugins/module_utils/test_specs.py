# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The modules' specs: built from the blocks, and stated once (the task timeout's default and range)."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.xprotect.go.plugins.module_utils import _specs as specs
from ansible_collections.xprotect.go.plugins.module_utils._connection_options import CONNECTION_SPEC


def module_options(name):
    """The module's documented options, with those of the collection's doc fragments it extends (as ansible-doc shows)."""
    module = importlib.import_module('ansible_collections.xprotect.go.plugins.modules.%s' % name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get('options') or {})
    for fragment in doc.get('extends_documentation_fragment', []):
        if fragment.startswith('xprotect.go.'):
            fragment_module = importlib.import_module('ansible_collections.xprotect.go.plugins.doc_fragments.%s' % fragment.split('.')[-1])
            options.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION)['options'])
    return options


def test_every_module_takes_the_connection_options():
    for spec in (specs.service_spec(), specs.service_info_spec()):
        assert {option: spec['argument_spec'][option] for option in CONNECTION_SPEC} == CONNECTION_SPEC


def test_task_timeout_is_stated_once():
    assert specs.service_spec()['argument_spec']['timeout']['default'] == specs.TASK_TIMEOUT
    doc = module_options('service')['timeout']
    assert doc['default'] == specs.TASK_TIMEOUT
    assert 'Between V(%d) and V(%d) seconds.' % (specs.TASK_TIMEOUT_MIN, specs.TASK_TIMEOUT_MAX) in doc['description']
    assert specs.TASK_TIMEOUT_MIN <= specs.TASK_TIMEOUT <= specs.TASK_TIMEOUT_MAX


def test_failure_lookback_is_stated_once():
    assert specs.service_info_spec()['argument_spec']['failure_lookback']['default'] == specs.FAILURE_LOOKBACK
    doc = module_options('service_info')['failure_lookback']
    assert doc['default'] == specs.FAILURE_LOOKBACK
    assert 'Between V(%d) and V(%d) minutes' % (specs.FAILURE_LOOKBACK_MIN, specs.FAILURE_LOOKBACK_MAX) in ' '.join(doc['description'])
    assert module_options('service_info')['failures']['default'] == specs.FAILURES_SPEC['failures']['default']


@pytest.mark.parametrize('spec', [specs.service_spec(), specs.fleet_service_plan_spec()])
def test_the_account_password_is_a_secret_and_needs_an_account(spec):
    assert spec['argument_spec']['account_password']['no_log'] is True
    assert spec['required_by'] == {'account_password': 'account'}
    assert ['state', 'start_mode', 'account'] in spec['required_one_of']
    options = module_options('service')
    assert options['update_password']['default'] == spec['argument_spec']['update_password']['default'] == 'on_change'
    assert options['update_password']['choices'] == spec['argument_spec']['update_password']['choices']


@pytest.mark.parametrize(
    'module, spec', [('fleet_service_info', specs.fleet_service_info_spec()), ('fleet_service_plan', specs.fleet_service_plan_spec())]
)
def test_the_fleet_modules_document_their_spec_and_take_no_connection_option(module, spec):
    spec = spec['argument_spec']
    assert not set(spec) & set(CONNECTION_SPEC), 'one task-wide password would go to every host'
    options = module_options(module)
    assert set(options) == set(spec)
    for name, entry in spec.items():
        assert options[name]['type'] == entry['type'] and options[name].get('default') == entry.get('default'), name
        assert options[name].get('choices') == entry.get('choices'), name
    assert 'between V(1) and V(%d)' % specs.FLEET_CONCURRENCY_MAX in ' '.join(options['concurrency']['description'])
