# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet's JSON control endpoint, route by route."""

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from xprotect_go_simulator import ControlError

SERVICE = 'Milestone Image Server'


@pytest.fixture
def fleet(sim_fleet):
    return sim_fleet(count=2, profile_mix={'standard': 1, 'custom': 1}, auth='basic', scheme='http')


def _service_url(running, name=SERVICE):
    return '%s/services/%s' % (running.control_url, urllib.parse.quote(name))


def test_hosts_lists_every_host(fleet, sim_control):
    hosts = sim_control.get(fleet.control_url + '/hosts')
    assert hosts == [running.as_dict() for running in fleet.hosts]
    assert [host['profile'] for host in hosts] == ['standard', 'custom']
    assert set(hosts[0]) == {'name', 'address', 'port', 'scheme', 'endpoint', 'profile'}
    assert hosts[1]['endpoint'] == 'http://127.0.0.3:%d/wsman' % fleet.hosts[1].port
    assert sim_control.get(fleet.hosts[1].control_url) == hosts[1]


def test_services_snapshot_and_configure(fleet, sim_control):
    running = fleet.hosts[0]
    services = sim_control.get(running.control_url + '/services')
    assert services == json.loads(json.dumps(running.state.snapshot()))
    assert services[SERVICE]['State'] == 'Running'

    changed = sim_control.post(_service_url(running), {'State': 'Stopped'})
    assert changed['State'] == 'Stopped'
    assert running.state.snapshot()[SERVICE]['State'] == 'Stopped'
    assert fleet.hosts[1].state.snapshot()[SERVICE]['State'] == 'Running'

    with pytest.raises(ControlError) as missing:
        sim_control.post(_service_url(running, 'NoSuchService'), {'State': 'Stopped'})
    assert missing.value.status == 404
    with pytest.raises(ControlError) as not_object:
        sim_control.post(_service_url(running), ['State', 'Stopped'])
    assert not_object.value.status == 400


def test_history_records_state_changes(fleet, sim_control):
    running = fleet.hosts[0]
    sim_control.post(_service_url(running), {'State': 'Stopped'})
    history = sim_control.get(running.control_url + '/history')
    assert isinstance(history, list)
    assert any(entry['service'] == SERVICE and entry['state'] == 'Stopped' for entry in history)


def test_stats_and_stats_reset(fleet, sim_control, wsman):
    running = fleet.hosts[0]
    wsman.enumerate_all(wsman.protocol_for(fleet), 'SELECT Name FROM Win32_Service')
    stats = sim_control.get(running.control_url + '/stats')
    assert stats['http_requests'] >= 1
    assert stats['soap_requests'] >= 1
    assert stats['by_action']['Enumerate'] == 1
    assert sim_control.post(running.control_url + '/stats/reset') == {'http_requests': 0, 'soap_requests': 0, 'by_action': {}}
    assert running.stats.as_dict()['http_requests'] == 0


def test_faults_set_read_and_clear(fleet, sim_control):
    running = fleet.hosts[1]
    faults = sim_control.post(running.control_url + '/faults', {'delay': 0.5, 'malformed': 'truncated'})
    assert faults == {'refuse': False, 'reset': False, 'delay': 0.5, 'http_500': False, 'malformed': 'truncated',
                      'endless_enumeration': False, 'enumeration_timeout': 240.0}
    assert running.faults.delay == 0.5
    assert sim_control.get(running.control_url + '/faults') == faults
    for bad in ({'delay': -1}, {'malformed': 'weird'}, {'reset': 'yes'}, {'explode': True}):
        with pytest.raises(ControlError) as raised:
            sim_control.post(running.control_url + '/faults', bad)
        assert raised.value.status == 400
    cleared = sim_control.delete(running.control_url + '/faults')
    assert cleared['delay'] == 0 and cleared['malformed'] is None
    assert fleet.hosts[0].faults.as_dict() == cleared


def test_reset_restores_profile_state_and_clears_faults(fleet, sim_control):
    running = fleet.hosts[0]
    original = json.loads(json.dumps(running.state.snapshot()))
    sim_control.post(_service_url(running), {'State': 'Stopped', 'StartMode': 'Disabled'})
    sim_control.post(running.control_url + '/faults', {'http_500': True})
    snapshot = sim_control.post(running.control_url + '/reset')
    assert snapshot == original
    assert running.faults.http_500 is False
    assert running.stats.as_dict()['soap_requests'] == 0


@pytest.mark.parametrize('method, path, status', [
    ('GET', '/nothing', 404),
    ('GET', '/hosts/no-such-host/services', 404),
    ('GET', '/hosts/xpgo-001/unknown', 404),
    ('POST', '/hosts', 405),
    ('DELETE', '/hosts/xpgo-001/services', 405),
    ('GET', '/hosts/xpgo-001/reset', 405),
])
def test_errors_are_json(fleet, sim_control, method, path, status):
    with pytest.raises(ControlError) as raised:
        sim_control.request(method, fleet.control_url + path)
    assert raised.value.status == status
    assert raised.value.message


def test_bad_json_body_is_a_400(fleet):
    request = urllib.request.Request(fleet.hosts[0].control_url + '/faults', data=b'{not json', method='POST',
                                     headers={'Authorization': 'Bearer ' + fleet.control_token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(request, timeout=10)
    assert raised.value.code == 400
    assert 'error' in json.loads(raised.value.read())
