# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health rules (_health): every rule, worst-wins, the warnings they keep, unreadable hosts, and docs/health.md."""

from __future__ import annotations

import datetime
import string

import pytest
from control_helpers import FakeClock, FakeWindows
from health_helpers import CUSTOM_KEYS, NOW, described, docs_table, docs_verdicts, rule_ids, services, with_failure

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _health as health
from ansible_collections.xprotect.go.plugins.module_utils import _specs as specs
from ansible_collections.xprotect.go.plugins.module_utils import _tasks as tasks
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError

# service_info's warnings as they were before the verdict, byte for byte: users and the fleet report read them.
IMAGE_SERVER_WARNING = (
    'The Image Server service logs on as EXAMPLE\\svc-img, not Local System: Smart Clients on other computers '
    "can log in only by this server's IP address, not its host name."
)
RECORDING_SERVER_STOPPED = 'The Recording Server service is stopped: no video reaches the system until it runs.'
OTHERS = tuple(key for key in catalog.SERVICE_KEYS if key != 'recording_server')


def verdict_of(report):
    return health.host_verdict(report, now=NOW)


@pytest.mark.parametrize('keys', [tuple(catalog.SERVICE_KEYS), CUSTOM_KEYS], ids=['standard', 'custom'])
def test_a_healthy_host_records_with_no_reasons(keys):
    assert verdict_of(services(keys)) == {'verdict': 'recording', 'reasons': []}


def test_a_host_without_a_recording_server_records_nothing():
    result = verdict_of(services(OTHERS))
    assert result['verdict'] == 'not_recording'
    assert result['reasons'] == [
        {
            'rule': 'recording_server_not_installed',
            'service': 'recording_server',
            'verdict': 'not_recording',
            'text': 'The Recording Server is not installed: this host records nothing.',
        }
    ]


def test_a_host_without_any_xprotect_service_is_not_recording_for_that_one_reason():
    assert rule_ids(verdict_of(services(()))) == [('recording_server_not_installed', 'recording_server')]


@pytest.mark.parametrize(
    'state, rule, words',
    [
        ('Stopped', 'recording_server_not_running', 'is stopped: no video'),
        ('Stop Pending', 'recording_server_not_running', 'is stop_pending: no video'),
        ('Paused', 'recording_server_not_running', 'is paused: no video'),
        ('Start Pending', 'recording_server_starting', 'it is starting, and no video reaches the system until it runs'),
    ],
)
def test_a_recording_server_that_does_not_run_is_not_recording(state, rule, words):
    result = verdict_of(services(recording_server={'State': state}))
    assert result['verdict'] == 'not_recording'
    assert rule_ids(result) == [(rule, 'recording_server')]
    assert words in result['reasons'][0]['text']


def test_a_recording_server_in_a_state_windows_calls_unknown_makes_the_verdict_unknown():
    result = verdict_of(services(recording_server={'State': 'Unknown'}))
    assert (result['verdict'], rule_ids(result)) == ('unknown', [('recording_server_state_unknown', 'recording_server')])
    assert 'as Unknown' in result['reasons'][0]['text'] and 'cannot be told' in result['reasons'][0]['text']


@pytest.mark.parametrize('start_mode, verdict', [('Manual', 'degraded'), ('Disabled', 'degraded'), ('Auto', 'recording')])
def test_a_recording_server_that_would_not_come_back_after_a_reboot_is_degraded(start_mode, verdict):
    result = verdict_of(services(recording_server={'StartMode': start_mode}))
    assert result['verdict'] == verdict
    if verdict == 'degraded':
        assert rule_ids(result) == [('recording_server_not_automatic', 'recording_server')]
        assert 'start mode is %s, not automatic' % start_mode.lower() in result['reasons'][0]['text']


def test_delayed_start_is_automatic():
    assert verdict_of(services(recording_server={'StartMode': 'Auto', 'DelayedAutoStart': 'true'}))['verdict'] == 'recording'


def test_a_stopped_manual_recording_server_gives_both_reasons_and_is_not_recording():
    result = verdict_of(services(recording_server={'State': 'Stopped', 'StartMode': 'Manual'}))
    assert result['verdict'] == 'not_recording'
    assert rule_ids(result) == [
        ('recording_server_not_running', 'recording_server'),
        ('recording_server_not_automatic', 'recording_server'),
    ]


@pytest.mark.parametrize('key', OTHERS)
@pytest.mark.parametrize('state', ['Stopped', 'Start Pending', 'Stop Pending', 'Paused'])
def test_another_service_down_is_degraded(key, state):
    result = verdict_of(services(**{key: {'State': state}}))
    assert (result['verdict'], rule_ids(result)) == ('degraded', [('service_down', key)])
    text = result['reasons'][0]['text']
    assert text.startswith('The %s service is ' % catalog.SERVICES[key]['title']) and health.WITHOUT[key] in text


def test_another_service_in_an_unknown_state_is_not_guessed_at():
    assert verdict_of(services(event_server={'State': 'Unknown'}))['verdict'] == 'recording'


def test_a_custom_installation_without_optional_services_is_not_degraded_by_their_absence():
    assert rule_ids(verdict_of(services(CUSTOM_KEYS, log_check={'State': 'Stopped'}))) == [('service_down', 'log_check')]


@pytest.mark.parametrize(
    'account, warned',
    [
        ('EXAMPLE\\svc-img', True),
        ('.\\xprotect', True),
        ('NT AUTHORITY\\NetworkService', True),
        ('LocalSystem', False),
        ('localsystem', False),
        ('.\\LocalSystem', False),
        ('NT AUTHORITY\\SYSTEM', False),
        ('SYSTEM', False),
        (None, False),
        ('', False),
    ],
)
def test_the_image_server_not_logging_on_as_local_system_is_degraded(account, warned):
    result = verdict_of(services(image_server={'StartName': account}))
    assert result['verdict'] == ('degraded' if warned else 'recording')
    assert rule_ids(result) == ([('image_server_account', 'image_server')] if warned else [])


def test_the_image_server_account_reason_is_todays_warning_even_while_it_is_stopped():
    result = verdict_of(services(image_server={'StartName': 'EXAMPLE\\svc-img', 'State': 'Stopped'}))
    assert rule_ids(result) == [('service_down', 'image_server'), ('image_server_account', 'image_server')]
    assert health.warnings(result) == [IMAGE_SERVER_WARNING]


@pytest.mark.parametrize('key', catalog.SERVICE_KEYS)
def test_a_recent_failure_from_the_event_log_is_degraded(key):
    result = verdict_of(with_failure(services(), key, hours_ago=2))
    assert (result['verdict'], rule_ids(result)) == ('degraded', [('recent_failure', key)])
    assert result['reasons'][0]['text'] == (
        'The %s service ended unexpectedly at 2025-06-01T10:00:00+00:00 (Service Control Manager '
        'event 7031); it is started now.' % catalog.SERVICES[key]['title']
    )


@pytest.mark.parametrize(
    'time, fires',
    [
        ('2025-06-01T11:00:00Z', True),  # Z for UTC
        ('2025-06-01T13:30:00+01:30', True),  # another offset: 12:00 UTC, just now
        ('2025-06-01T12:05:00+00:00', True),  # ahead of our clock: the host's runs fast
        ('2025-05-31T12:00:00+00:00', True),  # exactly the window
        ('2025-05-31T11:59:59+00:00', False),  # older than the window
        ('2025-06-01T11:00:00', False),  # no offset: we do not guess the host's time zone
        ('yesterday', False),
        ('', False),
        (None, False),
        (1748772000, False),
        (datetime.datetime(2025, 6, 1, 11, 0, tzinfo=datetime.timezone.utc), True),
    ],
)
def test_recent_failure_reads_only_times_it_can_trust(time, fires):
    result = verdict_of(with_failure(services(), 'log_check', time=time))
    assert rule_ids(result) == ([('recent_failure', 'log_check')] if fires else [])


@pytest.mark.parametrize('event_id, fires', [(7031, True), (7034, True), (7000, False), (7023, False), (7038, False), (None, False)])
def test_only_a_crash_is_a_recent_failure(event_id, fires):
    result = verdict_of(with_failure(services(), 'mobile_server', time='2025-06-01T11:00:00Z', event_id=event_id))
    assert rule_ids(result) == ([('recent_failure', 'mobile_server')] if fires else [])


def test_the_event_log_readers_facts_fire_the_rule():
    """last_failure as _eventlog writes it: event_id, time (UTC, Z), message; None when none was found in the window."""
    report = services()
    report['image_server']['last_failure'] = {
        'event_id': 7031,
        'time': '2025-06-01T09:30:00Z',
        'message': 'The Milestone Image Server service terminated unexpectedly.',
    }
    report['log_check']['last_failure'] = None
    result = verdict_of(report)
    assert rule_ids(result) == [('recent_failure', 'image_server')]
    assert result['reasons'][0]['text'] == (
        'The Image Server service ended unexpectedly at 2025-06-01T09:30:00Z (Service Control Manager event 7031); it is started now.'
    )


def test_service_infos_default_look_back_reads_exactly_the_rules_window():
    assert health.RECENT_FAILURE_WINDOW == datetime.timedelta(minutes=specs.FAILURE_LOOKBACK)


def test_without_the_event_log_recent_failure_cannot_fire():
    report = services(recording_server={'ExitCode': '1067'}, image_import={'State': 'Stopped', 'ExitCode': '1067'})
    assert [rule for rule, dummy in rule_ids(verdict_of(report))] == ['service_down']


def test_a_crashed_recording_server_still_down_is_not_recording_and_says_when_it_crashed():
    report = with_failure(services(recording_server={'State': 'Stopped'}), 'recording_server', hours_ago=1, event_id=7034)
    result = verdict_of(report)
    assert result['verdict'] == 'not_recording'
    assert rule_ids(result) == [('recording_server_not_running', 'recording_server'), ('recent_failure', 'recording_server')]
    assert 'event 7034); it is stopped now' in result['reasons'][1]['text']


def test_the_worst_verdict_wins_and_reasons_come_worst_first():
    report = services(
        recording_server={'State': 'Stopped'}, image_server={'StartName': 'EXAMPLE\\svc-img'}, event_server={'State': 'Stopped'}
    )
    result = verdict_of(report)
    assert result['verdict'] == 'not_recording'
    assert [reason['verdict'] for reason in result['reasons']] == ['not_recording', 'degraded', 'degraded']
    assert rule_ids(result)[0] == ('recording_server_not_running', 'recording_server')
    unknown = verdict_of(services(recording_server={'State': 'Unknown', 'StartMode': 'Manual'}, log_check={'State': 'Stopped'}))
    assert unknown['verdict'] == 'unknown' and [reason['verdict'] for reason in unknown['reasons']] == ['unknown', 'degraded', 'degraded']


def test_worst_orders_verdicts_as_documented():
    assert health.VERDICTS == ('not_recording', 'unknown', 'unreachable', 'degraded', 'recording')
    for better, worse in zip(health.VERDICTS[1:], health.VERDICTS, strict=False):
        assert health.worst([{'verdict': better}, {'verdict': worse}]) == worse
    assert health.worst([]) == 'recording'


def test_a_catalog_key_left_out_counts_as_not_installed():
    """The event source passes only the services it knows; the report always has all six keys."""
    report = {key: entry for key, entry in services().items() if key != 'mobile_server'}
    assert verdict_of(report)['verdict'] == 'recording'
    assert rule_ids(verdict_of({}))[0] == ('recording_server_not_installed', 'recording_server')


def test_the_warnings_are_todays_two_texts_byte_for_byte_and_nothing_more():
    report = described(
        recording_server={'State': 'Stopped', 'StartMode': 'Manual'},
        image_server={'StartName': 'EXAMPLE\\svc-img'},
        event_server={'State': 'Stopped'},
    )
    assert report['warnings'] == [RECORDING_SERVER_STOPPED, IMAGE_SERVER_WARNING]
    assert health.warnings(health.host_verdict(report['services'])) == report['warnings']
    assert described(event_server={'State': 'Stopped'})['warnings'] == [], 'a service down is a reason, not a warning'
    assert described(OTHERS)['warnings'] == [], 'nor is a host without a Recording Server'


def test_describe_host_returns_the_verdict_and_its_reasons_from_one_round_trip():
    windows = FakeWindows(FakeClock())
    windows.services['milestone image import service']['State'] = 'Stopped'
    report = tasks.describe_host(windows)
    assert report['verdict'] == 'degraded' and rule_ids(report) == [('service_down', 'image_import')]
    assert windows.calls == [('discover',)]


@pytest.mark.parametrize('kind', errors.KINDS)
def test_a_host_that_could_not_be_read_is_unreachable_or_unknown(kind):
    expected = 'unreachable' if kind in (errors.UNREACHABLE, errors.TIMEOUT) else 'unknown'
    assert health.unreadable_verdict(kind) == expected
    assert health.unreadable(kind, 'no answer from nvr01') == {
        'verdict': expected,
        'reasons': [
            {
                'rule': 'host_unreachable' if expected == 'unreachable' else 'host_unreadable',
                'service': None,
                'verdict': expected,
                'text': 'no answer from nvr01',
            }
        ],
    }


@pytest.mark.parametrize('kind, verdict', [('unreachable', 'unreachable'), ('timeout', 'unreachable'), ('access_denied', 'unknown')])
def test_service_infos_failure_carries_the_verdict(monkeypatch, kind, verdict):
    windows = FakeWindows(FakeClock())
    windows.inject('discover', kind)
    monkeypatch.setattr(tasks, '_host_services', lambda *args: windows)
    with pytest.raises(XProtectError) as error:
        tasks.run_service_info({})
    assert error.value.result['verdict'] == verdict
    assert error.value.result['reasons'][0]['text'] == str(error.value)


def test_bad_input_is_an_unknown_verdict_too():
    with pytest.raises(XProtectError) as error:
        tasks.run_service_info({'host': 'nvr01', 'username': 'u', 'password': 'p', 'service_names': {'recorder': 'X'}})
    assert error.value.kind == errors.INVALID and error.value.result['verdict'] == 'unknown'


def test_every_rule_is_well_formed():
    ids = [rule.id for rule in health.RULES + health.UNREADABLE_RULES]
    assert len(ids) == len(set(ids))
    for rule in health.RULES:
        assert rule.verdict in health.VERDICTS and rule.why
        assert rule.services and set(rule.services) <= set(catalog.SERVICE_KEYS)
        assert rule.when in health.PREDICATES if isinstance(rule.when, str) else rule.when
        fields = {name for dummy, name, dummy, dummy in string.Formatter().parse(rule.text) if name}
        assert fields <= {'title', 'state', 'windows_state', 'start_mode', 'start_name', 'without', 'failure_time', 'event_id'}
    assert all(key in health.WITHOUT for rule in health.RULES if '{without}' in rule.text for key in rule.services)


def test_the_docs_table_is_the_rules():
    """docs/health.md: one row per rule, with its verdict and its why; no row without a rule."""
    table = docs_table()
    assert table == {rule.id: (rule.verdict, rule.why) for rule in health.RULES + health.UNREADABLE_RULES}


def test_the_docs_list_the_verdicts_worst_first():
    assert docs_verdicts() == list(health.VERDICTS)
