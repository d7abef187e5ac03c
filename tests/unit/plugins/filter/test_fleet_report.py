# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.report_entry, fleet_report, fleet_summary and fleet_failures: the fleet_report role's data, from service_info results."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ansible.errors import AnsibleFilterError

from filter_helpers import load_filter

report_entry = load_filter('report_entry')
fleet_report = load_filter('fleet_report')
fleet_summary = load_filter('fleet_summary')
fleet_failures = load_filter('fleet_failures')
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[4] / 'roles' / 'fleet_report' / 'files' / 'fleet-report.schema.json').read_text(encoding='utf-8')
)

# The recorded hosts, named as the simulator names them, in play order.
HOSTS = [
    ('xpgo-001', 'standard'),
    ('xpgo-002', 'recording_server_stopped'),
    ('xpgo-003', 'failed'),
    ('xpgo-004', 'other_service_and_image_import_stopped'),
    ('xpgo-005', 'custom'),
    ('xpgo-006', 'image_server_domain_account'),
    ('xpgo-gone', 'unreachable'),
]
RECORDING_SERVER_STOPPED = 'The Recording Server service is stopped: no video reaches the system until it runs.'
DOMAIN_ACCOUNT = (
    'The Image Server service logs on as XPGO\\svc-imageserver, not Local System: Smart Clients on other computers '
    "can log in only by this server's IP address, not its host name."
)


IMAGE_IMPORT_STOPPED = (
    'The Image Import service is stopped: the host records, but pre- and post-alarm images are not fetched from the cameras.'
)
VERDICTS = {
    'xpgo-001': 'recording',
    'xpgo-002': 'not_recording',
    'xpgo-003': 'unknown',
    'xpgo-004': 'degraded',
    'xpgo-005': 'recording',
    'xpgo-006': 'degraded',
    'xpgo-gone': 'unreachable',
}


def entries(results):
    return [report_entry(results['service_info'][shape], name, '10.0.0.%d' % index) for index, (name, shape) in enumerate(HOSTS, 1)]


def reason(rule, service, verdict, text):
    return {'rule': rule, 'service': service, 'verdict': verdict, 'text': text}


def test_a_healthy_standard_host_is_recording(results):
    info = results['service_info']['standard']
    entry = report_entry(info, 'xpgo-001', '10.0.0.1')
    assert entry == {
        'name': 'xpgo-001',
        'address': '10.0.0.1',
        'verdict': 'recording',
        'reasons': [],
        'error': '',
        'install_type': 'standard',
        'installed': 6,
        'running': 6,
        'warnings': [],
        'services': info['services'],
        'other_services': [],
        'line': 'xpgo-001         recording     standard installation, 6 of 6 services running',
    }
    # The module's services go into the report as they are, in its order (the HTML lists them so).
    assert list(entry['services']) == list(info['services'])


def test_a_custom_installation_counts_only_what_it_has(results):
    entry = report_entry(results['service_info']['custom'], 'xpgo-005', '10.0.0.5')
    assert (entry['verdict'], entry['install_type'], entry['installed'], entry['running']) == ('recording', 'custom', 4, 4)
    assert entry['line'] == 'xpgo-005         recording     custom installation, 4 of 4 services running'


def test_a_stopped_recording_server_is_not_recording_not_a_warning(results):
    stopped = report_entry(results['service_info']['recording_server_stopped'], 'xpgo-002', '10.0.0.2')
    assert (stopped['verdict'], stopped['running'], stopped['warnings']) == ('not_recording', 5, [RECORDING_SERVER_STOPPED])
    assert stopped['reasons'] == [reason('recording_server_not_running', 'recording_server', 'not_recording', RECORDING_SERVER_STOPPED)]
    assert stopped['line'] == 'xpgo-002         not_recording standard installation, 5 of 6 services running; ' + RECORDING_SERVER_STOPPED


def test_the_image_server_account_and_a_stopped_service_are_degraded(results):
    domain = report_entry(results['service_info']['image_server_domain_account'], 'xpgo-006', '10.0.0.6')
    assert (domain['verdict'], domain['running'], domain['warnings']) == ('degraded', 6, [DOMAIN_ACCOUNT])
    assert domain['reasons'] == [reason('image_server_account', 'image_server', 'degraded', DOMAIN_ACCOUNT)]
    assert domain['line'] == 'xpgo-006         degraded      standard installation, 6 of 6 services running; ' + DOMAIN_ACCOUNT
    info = results['service_info']['other_service_and_image_import_stopped']
    assert 'warnings' not in info
    entry = report_entry(info, 'xpgo-004', '10.0.0.4')
    assert (entry['verdict'], entry['running'], entry['installed'], entry['warnings']) == ('degraded', 5, 6, [])
    assert entry['reasons'] == [reason('service_down', 'image_import', 'degraded', IMAGE_IMPORT_STOPPED)]
    assert entry['line'] == 'xpgo-004         degraded      standard installation, 5 of 6 services running; ' + IMAGE_IMPORT_STOPPED
    assert [service['name'] for service in entry['other_services']] == ['Milestone XProtect Management Server']


def test_the_modules_own_verdict_and_reasons_win(results):
    info = results['service_info']['standard']
    said = reason('recent_failure', 'log_check', 'degraded', 'The Log Check service ended unexpectedly ...')
    info.update(verdict='degraded', reasons=[said])
    entry = report_entry(info, 'xpgo-001')
    assert (entry['verdict'], entry['reasons']) == ('degraded', [said])
    failed = results['service_info']['unreachable']
    failed.update(verdict='unreachable', reasons=[reason('host_unreachable', None, 'unreachable', failed['msg'])])
    assert report_entry(failed, 'xpgo-gone')['reasons'] == failed['reasons']


@pytest.mark.parametrize(
    'shape, verdict, rule', [('failed', 'unknown', 'host_unreadable'), ('unreachable', 'unreachable', 'host_unreachable')]
)
def test_a_host_that_could_not_be_read_shows_why(results, shape, verdict, rule):
    info = results['service_info'][shape]
    entry = report_entry(info, 'xpgo-009', '10.0.0.9')
    assert entry == {
        'name': 'xpgo-009',
        'address': '10.0.0.9',
        'verdict': verdict,
        'reasons': [reason(rule, None, verdict, info['msg'])],
        'error': info['msg'],
        'install_type': 'unknown',
        'installed': 0,
        'running': 0,
        'warnings': [],
        'services': {},
        'other_services': [],
        'line': 'xpgo-009         %-13s %s' % (verdict, info['msg']),
    }


def test_a_failure_without_a_message_says_no_answer_and_the_address_defaults_to_the_name(results):
    entry = report_entry({'failed': True, 'changed': False}, 'xpgo-010')
    assert (entry['address'], entry['error'], entry['line']) == ('xpgo-010', 'no answer', 'xpgo-010         unknown       no answer')


def test_non_text_warnings_become_text(results):
    info = results['service_info']['standard']
    info['warnings'] = [42]
    assert report_entry(info, 'xpgo-001')['warnings'] == ['42']


def test_report_entry_refuses_what_is_not_a_result():
    with pytest.raises(
        AnsibleFilterError, match=r"xprotect\.go\.report_entry: the host's service_info result must be a dictionary, got str"
    ):
        report_entry('unreachable', 'xpgo-001')
    with pytest.raises(AnsibleFilterError, match=r"service_info's verdict is 'ok', not one of not_recording, unknown"):
        report_entry({'verdict': 'ok'}, 'xpgo-001')


def test_the_document_counts_hosts_by_verdict_and_lists_who_needs_attention(results):
    hosts = entries(results)
    assert {entry['name']: entry['verdict'] for entry in hosts} == VERDICTS
    document = fleet_report(hosts, title='Nightly', generated='2025-01-02 03:04:05 UTC')
    assert document['summary'] == {'hosts': 7, 'not_recording': 1, 'unknown': 1, 'unreachable': 1, 'degraded': 2, 'recording': 2}
    assert document['attention'] == ['xpgo-002', 'xpgo-003', 'xpgo-gone', 'xpgo-004', 'xpgo-006']
    assert [entry['name'] for entry in document['hosts']] == [name for name, _shape in HOSTS]
    assert (document['schema_version'], document['title'], document['generated']) == ('2.0', 'Nightly', '2025-01-02 03:04:05 UTC')
    assert document['verdicts'] == ['not_recording', 'unknown', 'unreachable', 'degraded', 'recording']
    # The JSON report is this document as it is, and its schema holds it.
    assert json.loads(json.dumps(document)) == document
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_the_schema_is_valid_and_refuses_the_old_shape(results):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    document = fleet_report(entries(results), 'Nightly', 'now')
    old = dict(document, summary={'hosts': 7, 'ok': 2, 'warning': 2, 'failed': 1, 'unreachable': 1})
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(old)
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(dict(document, schema_version='1.0'))
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(dict(document, hosts=[dict(document['hosts'][0], verdict='ok')]))


def test_an_empty_fleet_is_all_zero():
    document = fleet_report([], 'Empty', 'now')
    assert document['summary'] == {'hosts': 0, 'not_recording': 0, 'unknown': 0, 'unreachable': 0, 'degraded': 0, 'recording': 0}
    assert document['attention'] == []
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_fleet_report_refuses_entries_it_did_not_build(results):
    with pytest.raises(AnsibleFilterError, match=r'report entry 0 \(xpgo-001\) has verdict None'):
        fleet_report([{'name': 'xpgo-001', 'status': 'ok'}], 'Nightly', 'now')
    with pytest.raises(AnsibleFilterError, match=r'the report entries must be a list, got dict'):
        fleet_report(results['service_info']['standard'], 'Nightly', 'now')


def test_the_summary_counts_by_verdict_then_each_host_and_the_files(results):
    document = fleet_report(entries(results), 'XProtect Go fleet status', 'now')
    lines = fleet_summary(document, html_path='/srv/r/fleet.html', json_path='/srv/r/fleet.json')
    assert lines[0] == 'XProtect Go fleet status: 7 hosts, 2 recording, 2 degraded, 1 not recording, 1 unknown, 1 unreachable'
    assert lines[1:-2] == [entry['line'] for entry in document['hosts']]
    assert lines[1] == 'xpgo-001         recording     standard installation, 6 of 6 services running'
    assert lines[7].startswith('xpgo-gone        unreachable   127.0.0.99: cannot connect to the WinRM listener')
    assert lines[-2:] == ['HTML report: /srv/r/fleet.html', 'JSON report: /srv/r/fleet.json']


def test_fleet_summary_refuses_a_list_of_entries(results):
    with pytest.raises(AnsibleFilterError, match=r'xprotect\.go\.fleet_summary: the report must be a dictionary, got list'):
        fleet_summary(entries(results), '/a.html', '/a.json')
    with pytest.raises(AnsibleFilterError, match=r"the report has no 'summary': build it with fleet_report"):
        fleet_summary({'title': 'x', 'hosts': []}, '/a.html', '/a.json')


def test_fleet_failures_names_the_hosts_with_a_verdict_to_fail_on(results):
    document = fleet_report(entries(results), 'Nightly', 'now')
    assert fleet_failures(document, []) == []
    assert fleet_failures(document, ['not_recording']) == ['xpgo-002 (not recording)']
    assert fleet_failures(document, ['unreachable', 'not_recording', 'unknown']) == [
        'xpgo-002 (not recording)',
        'xpgo-003 (unknown)',
        'xpgo-gone (unreachable)',
    ]
    assert fleet_failures(fleet_report([entries(results)[0]], 'Nightly', 'now'), ['not_recording', 'degraded']) == []


def test_fleet_failures_refuses_a_verdict_that_does_not_exist(results):
    document = fleet_report(entries(results), 'Nightly', 'now')
    with pytest.raises(
        AnsibleFilterError, match=r"xprotect\.go\.fleet_failures: cannot fail on 'failed': the verdicts are not_recording, "
    ):
        fleet_failures(document, ['failed'])
    with pytest.raises(AnsibleFilterError, match=r'the verdicts to fail on must be a list, got str'):
        fleet_failures(document, 'not_recording')


# -- fleet_report_entries: the same entries from one fleet_service_info result -------------------------

fleet_report_entries = load_filter('fleet_report_entries')


def test_fleet_report_entries_are_the_per_host_entries_in_read_order(results):
    read = {
        'changed': False,
        'hosts': {name: results['service_info'][shape] for name, shape in HOSTS},
        'addresses': {name: '10.0.0.%d' % index for index, (name, _shape) in enumerate(HOSTS, 1)},
    }
    assert fleet_report_entries(read) == entries(results)
    assert [entry['verdict'] for entry in fleet_report_entries(read)] == list(VERDICTS.values())


def test_fleet_report_entries_default_the_address_to_the_name(results):
    read = {'hosts': {'xpgo-001': results['service_info']['standard']}}
    assert fleet_report_entries(read)[0]['address'] == 'xpgo-001'


@pytest.mark.parametrize(
    'read, message',
    [
        ('text', "fleet_service_info's result must be a dictionary, got str"),
        ({'failed': True, 'msg': 'concurrency must be between 1 and 1000, got 0'}, 'nothing to report: concurrency must be'),
        ({'hosts': ['xpgo-001']}, "fleet_service_info's hosts must be a dictionary, got list"),
    ],
)
def test_fleet_report_entries_refuse_what_is_not_a_fleet_read(read, message):
    with pytest.raises(AnsibleFilterError, match=r'xprotect\.go\.fleet_report_entries: .*' + message.replace('(', r'\(')):
        fleet_report_entries(read)
