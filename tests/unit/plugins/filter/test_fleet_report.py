# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""xprotect.go.report_entry, fleet_report and fleet_summary: the fleet_report role's data, from service_info results."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from filter_helpers import load_filter

report_entry = load_filter('report_entry')
fleet_report = load_filter('fleet_report')
fleet_summary = load_filter('fleet_summary')

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
DOMAIN_ACCOUNT = ("The Image Server service logs on as XPGO\\svc-imageserver, not Local System: Smart Clients on other computers "
                  "can log in only by this server's IP address, not its host name.")


def entries(results):
    return [report_entry(results['service_info'][shape], name, '10.0.0.%d' % index) for index, (name, shape) in enumerate(HOSTS, 1)]


def test_a_healthy_standard_host_is_ok(results):
    info = results['service_info']['standard']
    entry = report_entry(info, 'xpgo-001', '10.0.0.1')
    assert entry == {
        'name': 'xpgo-001', 'address': '10.0.0.1', 'status': 'ok', 'error': '', 'install_type': 'standard',
        'installed': 6, 'running': 6, 'warnings': [], 'services': info['services'], 'other_services': [],
        'line': 'xpgo-001         ok           standard installation, 6 of 6 services running'}
    # The module's services go into the report as they are, in its order (the HTML lists them so).
    assert list(entry['services']) == list(info['services'])


def test_a_custom_installation_counts_only_what_it_has(results):
    entry = report_entry(results['service_info']['custom'], 'xpgo-005', '10.0.0.5')
    assert (entry['status'], entry['install_type'], entry['installed'], entry['running']) == ('ok', 'custom', 4, 4)
    assert entry['line'] == 'xpgo-005         ok           custom installation, 4 of 4 services running'


def test_the_modules_warnings_make_a_warning_and_join_the_line(results):
    stopped = report_entry(results['service_info']['recording_server_stopped'], 'xpgo-002', '10.0.0.2')
    assert (stopped['status'], stopped['running'], stopped['warnings']) == ('warning', 5, [RECORDING_SERVER_STOPPED])
    assert stopped['line'] == 'xpgo-002         warning      standard installation, 5 of 6 services running; ' + RECORDING_SERVER_STOPPED
    domain = report_entry(results['service_info']['image_server_domain_account'], 'xpgo-006', '10.0.0.6')
    assert (domain['status'], domain['running'], domain['warnings']) == ('warning', 6, [DOMAIN_ACCOUNT])
    assert domain['line'] == 'xpgo-006         warning      standard installation, 6 of 6 services running; ' + DOMAIN_ACCOUNT


def test_a_service_not_running_is_a_warning_without_a_module_warning(results):
    info = results['service_info']['other_service_and_image_import_stopped']
    assert 'warnings' not in info
    entry = report_entry(info, 'xpgo-004', '10.0.0.4')
    assert (entry['status'], entry['running'], entry['installed'], entry['warnings']) == ('warning', 5, 6, [])
    assert entry['line'] == 'xpgo-004         warning      standard installation, 5 of 6 services running'
    assert [service['name'] for service in entry['other_services']] == ['Milestone XProtect Management Server']


@pytest.mark.parametrize('shape, status', [('failed', 'failed'), ('unreachable', 'unreachable')])
def test_a_host_that_could_not_be_read_shows_why(results, shape, status):
    info = results['service_info'][shape]
    entry = report_entry(info, 'xpgo-009', '10.0.0.9')
    assert entry == {
        'name': 'xpgo-009', 'address': '10.0.0.9', 'status': status, 'error': info['msg'], 'install_type': 'unknown',
        'installed': 0, 'running': 0, 'warnings': [], 'services': {}, 'other_services': [],
        'line': 'xpgo-009         %-12s %s' % (status, info['msg'])}


def test_a_failure_without_a_message_says_no_answer_and_the_address_defaults_to_the_name(results):
    entry = report_entry({'failed': True, 'changed': False}, 'xpgo-010')
    assert (entry['address'], entry['error'], entry['line']) == ('xpgo-010', 'no answer', 'xpgo-010         failed       no answer')


def test_non_text_warnings_become_text(results):
    info = results['service_info']['standard']
    info['warnings'] = [42]
    assert report_entry(info, 'xpgo-001')['warnings'] == ['42']


def test_report_entry_refuses_what_is_not_a_result():
    with pytest.raises(AnsibleFilterError, match=r"xprotect\.go\.report_entry: the host's service_info result must be a dictionary, got str"):
        report_entry('unreachable', 'xpgo-001')


def test_the_document_counts_hosts_by_status_and_keeps_their_order(results):
    hosts = entries(results)
    document = fleet_report(hosts, title='Nightly', generated='2025-01-02 03:04:05 UTC')
    assert document['summary'] == {'hosts': 7, 'ok': 2, 'warning': 3, 'failed': 1, 'unreachable': 1}
    assert [entry['name'] for entry in document['hosts']] == [name for name, _shape in HOSTS]
    assert (document['title'], document['generated']) == ('Nightly', '2025-01-02 03:04:05 UTC')
    # The JSON report is this document as it is.
    assert json.loads(json.dumps(document)) == document


def test_an_empty_fleet_is_all_zero():
    assert fleet_report([], 'Empty', 'now')['summary'] == {'hosts': 0, 'ok': 0, 'warning': 0, 'failed': 0, 'unreachable': 0}


def test_fleet_report_refuses_entries_it_did_not_build(results):
    with pytest.raises(AnsibleFilterError, match=r"report entry 0 \(xpgo-001\) has status 'started'"):
        fleet_report([{'name': 'xpgo-001', 'status': 'started'}], 'Nightly', 'now')
    with pytest.raises(AnsibleFilterError, match=r'the report entries must be a list, got dict'):
        fleet_report(results['service_info']['standard'], 'Nightly', 'now')


def test_the_summary_has_the_counts_each_host_and_the_files(results):
    document = fleet_report(entries(results), 'XProtect Go fleet status', 'now')
    lines = fleet_summary(document, html_path='/srv/r/fleet.html', json_path='/srv/r/fleet.json')
    assert lines[0] == 'XProtect Go fleet status: 7 hosts, 2 ok, 3 warning, 1 failed, 1 unreachable'
    assert lines[1:-2] == [entry['line'] for entry in document['hosts']]
    assert lines[1] == 'xpgo-001         ok           standard installation, 6 of 6 services running'
    assert lines[7].startswith('xpgo-gone        unreachable  127.0.0.99: cannot connect to the WinRM listener')
    assert lines[-2:] == ['HTML report: /srv/r/fleet.html', 'JSON report: /srv/r/fleet.json']


def test_fleet_summary_refuses_a_list_of_entries(results):
    with pytest.raises(AnsibleFilterError, match=r'xprotect\.go\.fleet_summary: the report must be a dictionary, got list'):
        fleet_summary(entries(results), '/a.html', '/a.json')
    with pytest.raises(AnsibleFilterError, match=r"the report has no 'summary': build it with fleet_report"):
        fleet_summary({'title': 'x', 'hosts': []}, '/a.html', '/a.json')
