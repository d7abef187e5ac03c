# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""What users get wrong about names: misspelt keys are refused with a suggestion, skipped names are never silent."""

from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._plan import skipped_name_warnings, validate_request
from control_helpers import NAMES, FakeClock, FakeWindows, converge

KEY_LIST = 'recording_server, image_server, image_import, log_check, event_server, mobile_server'


@pytest.fixture
def clock():
    return FakeClock()


@pytest.mark.parametrize(
    'name, meant',
    [
        ('recordng_server', 'recording_server'),
        ('Recording_Server', 'recording_server'),
        ('image-server', 'image_server'),
        ('ImageServer', 'image_server'),
        ('log check', 'log_check'),
        ('evnt_server', 'event_server'),
        ('standart', 'standard'),
        ('Custom', 'custom'),
        ('image', 'image_server or image_import'),
    ],
)
@pytest.mark.parametrize('missing', ['auto', 'skip', 'fail'])
def test_a_misspelt_key_is_refused_with_a_suggestion_before_anything_is_sent(clock, name, meant, missing):
    windows = FakeWindows(clock)
    with pytest.raises(XProtectError) as error:
        converge(windows, clock, name=['log_check', name], state='stopped', missing=missing)
    assert error.value.kind == 'invalid'
    assert str(error.value) == (
        'name %r is not a service key: did you mean %s? Use a key (%s), a set (standard, custom, all) or '
        'a Windows service name as installed' % (name, meant, KEY_LIST)
    )
    assert windows.calls == []


@pytest.mark.parametrize(
    'name',
    [
        'Spooler',
        'MSSQLSERVER',
        'EventLog',
        'LanmanServer',
        'W3SVC',
        'ALG',
        'recorder',
        'Milestone XProtect Recording Server',
        'MilestoneEventServerService',
        'XPGO Analytics',
    ],
)
def test_real_windows_service_names_are_not_taken_for_misspelt_keys(name):
    assert catalog.near_keys(name) == []
    validate_request({'name': [name], 'state': 'started'})


@pytest.mark.parametrize('key', catalog.SERVICE_KEYS + catalog.SERVICE_SETS)
def test_keys_and_sets_are_not_near_anything(key):
    assert catalog.near_keys(key) == []


def test_missing_skip_warns_about_a_name_that_is_neither_a_key_nor_installed(clock):
    windows = FakeWindows(clock, keys=('recording_server', 'log_check'))
    result = converge(windows, clock, name=['log_check', 'Milestone Recoding Server', 'mobile_server'], state='stopped', missing='skip')
    assert result['missing'] == ['Milestone Recoding Server', 'mobile_server']
    assert result['warnings'] == [
        "name 'Milestone Recoding Server' is neither a service key nor a service installed on the host: it was skipped "
        '(missing: skip). If it is not a typo, nothing needed doing; otherwise use a key (%s), a set (standard, custom, all) '
        'or a Windows service name as installed' % KEY_LIST
    ]
    assert result['changed'] is True and list(result['services']) == ['log_check']


def test_a_key_the_host_lacks_is_skipped_without_a_warning(clock):
    windows = FakeWindows(clock, keys=('recording_server', 'image_server', 'image_import', 'log_check'))
    result = converge(windows, clock, name=['custom'], state='started')
    assert sorted(result['missing']) == ['event_server', 'mobile_server']
    assert 'warnings' not in result
    assert skipped_name_warnings(['event_server']) == []


def test_an_installed_real_name_needs_no_warning(clock):
    windows = FakeWindows(clock)
    result = converge(windows, clock, name=['Spooler'], state='started', missing='skip')
    assert result['missing'] == [] and 'warnings' not in result


@pytest.mark.parametrize(
    'key, fragment',
    [
        ('recordng_server', "service_names has an unknown key 'recordng_server' (did you mean recording_server?); the keys are "),
        ('Image-Server', "service_names has an unknown key 'Image-Server' (did you mean image_server?); the keys are "),
        ('recorder', "service_names has an unknown key 'recorder'; the keys are %s" % KEY_LIST),
        ('standard', "service_names has an unknown key 'standard'; the keys are "),
    ],
)
def test_an_unknown_service_names_key_is_refused_with_a_suggestion(clock, key, fragment):
    windows = FakeWindows(clock)
    for call in (
        lambda: converge(windows, clock, name=['recording_server'], state='started', service_names={key: 'X'}),
        lambda: tasks.describe_host(windows, {key: 'X'}),
    ):
        with pytest.raises(XProtectError) as error:
            call()
        assert fragment in str(error.value) and error.value.kind == 'invalid'
    assert windows.calls == []


def test_a_misspelt_key_in_service_names_mapping_to_a_real_name_is_refused_too(clock):
    windows = FakeWindows(clock)
    with pytest.raises(XProtectError) as error:
        converge(
            windows,
            clock,
            name=['recording_server'],
            state='started',
            missing='skip',
            service_names={'recording_sever': NAMES['recording_server']},
        )
    assert 'did you mean recording_server?' in str(error.value)
