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
    assert stats['http_responses'] == stats['http_requests'], 'every request was answered'
    assert stats['lost_answers'] == {} and stats['delayed_answers'] == 0
    assert sim_control.post(running.control_url + '/stats/reset') == {
        'http_requests': 0,
        'http_responses': 0,
        'soap_requests': 0,
        'by_action': {},
        'delayed_answers': 0,
        'delayed_seconds': 0.0,
        'lost_answers': {},
        'charged': {},
        'charged_seconds': 0.0,
    }
    assert running.stats.as_dict()['http_requests'] == 0


def test_faults_set_read_and_clear(fleet, sim_control):
    running = fleet.hosts[1]
    faults = sim_control.post(running.control_url + '/faults', {'delay': 0.5, 'malformed': 'truncated'})
    assert faults == {
        'refuse': False,
        'reset': False,
        'delay': 0.5,
        'http_500': False,
        'malformed': 'truncated',
        'endless_enumeration': False,
        'enumeration_timeout': 240.0,
        'lose_answer': None,
    }
    assert running.faults.delay == 0.5
    assert sim_control.get(running.control_url + '/faults') == faults
    for bad in ({'delay': -1}, {'malformed': 'weird'}, {'reset': 'yes'}, {'explode': True}):
        with pytest.raises(ControlError) as raised:
            sim_control.post(running.control_url + '/faults', bad)
        assert raised.value.status == 400
    cleared = sim_control.delete(running.control_url + '/faults')
    assert cleared['delay'] == 0 and cleared['malformed'] is None
    assert fleet.hosts[0].faults.as_dict() == cleared


def test_lose_answer_is_set_read_counted_down_and_cleared(fleet, sim_control):
    running = fleet.hosts[0]
    faults = sim_control.post(
        running.control_url + '/faults', {'lose_answer': {'method': 'StopService', 'how': 'hold', 'times': 2, 'hold_seconds': 5}}
    )
    assert faults['lose_answer'] == {'method': 'StopService', 'how': 'hold', 'times': 2, 'hold_seconds': 5.0, 'service': None}
    # Defaults: once, any service; a hold without hold_seconds holds 60 s.
    faults = sim_control.post(running.control_url + '/faults', {'lose_answer': {'method': 'Enumerate', 'how': 'hold'}})
    assert faults['lose_answer'] == {'method': 'Enumerate', 'how': 'hold', 'times': 1, 'hold_seconds': 60.0, 'service': None}
    # The simulator counts each answer it loses down; the last one clears the fault.
    running.faults.update(lose_answer={'method': 'StartService', 'how': 'reset', 'times': 2, 'service': SERVICE})
    assert running.faults.take_lost_answer('StopService', SERVICE) is None, 'another method'
    assert running.faults.take_lost_answer('StartService', 'Milestone Log Check Service') is None, 'another service'
    assert running.faults.take_lost_answer('StartService', SERVICE.upper())['times'] == 2
    assert sim_control.get(running.control_url + '/faults')['lose_answer']['times'] == 1
    assert running.faults.take_lost_answer('StartService', SERVICE)['times'] == 1
    assert sim_control.get(running.control_url + '/faults')['lose_answer'] is None
    assert running.faults.take_lost_answer('StartService', SERVICE) is None


@pytest.mark.parametrize(
    'bad, words',
    [
        ('StopService', 'lose_answer must be null or an object'),
        ({'how': 'reset'}, 'lose_answer.method must be one of StartService, StopService'),
        ({'method': 'Shutdown', 'how': 'reset'}, 'lose_answer.method must be one of'),
        ({'method': 'StopService'}, 'lose_answer.how must be one of reset, hold, garble, not None'),
        ({'method': 'StopService', 'how': 'drop'}, "lose_answer.how must be one of reset, hold, garble, not 'drop'"),
        ({'method': 'StopService', 'how': 'reset', 'times': 0}, 'lose_answer.times must be a whole number from 1'),
        ({'method': 'StopService', 'how': 'reset', 'times': 1.5}, 'lose_answer.times must be a whole number from 1'),
        ({'method': 'StopService', 'how': 'reset', 'times': True}, 'lose_answer.times must be a whole number from 1'),
        ({'method': 'StopService', 'how': 'hold', 'hold_seconds': 0}, 'lose_answer.hold_seconds must be a number of seconds above 0'),
        ({'method': 'StopService', 'how': 'hold', 'hold_seconds': 3601}, 'at most 3600'),
        ({'method': 'StopService', 'how': 'hold', 'hold_seconds': '5'}, 'lose_answer.hold_seconds must be a number'),
        ({'method': 'StopService', 'how': 'reset', 'hold_seconds': 5}, 'hold_seconds applies only to how "hold"'),
        ({'method': 'StopService', 'how': 'reset', 'service': ''}, 'lose_answer.service must be a service name or null'),
        ({'method': 'StopService', 'how': 'reset', 'when': 'now'}, "lose_answer has unknown keys 'when'"),
    ],
)
def test_bad_lose_answer_is_a_400_with_one_line(fleet, sim_control, bad, words):
    running = fleet.hosts[0]
    with pytest.raises(ControlError) as raised:
        sim_control.post(running.control_url + '/faults', {'lose_answer': bad})
    assert raised.value.status == 400
    assert words in raised.value.message and '\n' not in raised.value.message
    assert running.faults.lose_answer is None, 'nothing was set'


def test_reset_restores_profile_state_and_clears_faults(fleet, sim_control):
    running = fleet.hosts[0]
    original = json.loads(json.dumps(running.state.snapshot()))
    sim_control.post(_service_url(running), {'State': 'Stopped', 'StartMode': 'Disabled'})
    sim_control.post(running.control_url + '/faults', {'http_500': True})
    snapshot = sim_control.post(running.control_url + '/reset')
    assert snapshot == original
    assert running.faults.http_500 is False
    assert running.stats.as_dict()['soap_requests'] == 0


@pytest.mark.parametrize(
    'method, path, status',
    [
        ('GET', '/nothing', 404),
        ('GET', '/hosts/no-such-host/services', 404),
        ('GET', '/hosts/xpgo-001/unknown', 404),
        ('POST', '/hosts', 405),
        ('DELETE', '/hosts/xpgo-001/services', 405),
        ('GET', '/hosts/xpgo-001/reset', 405),
    ],
)
def test_errors_are_json(fleet, sim_control, method, path, status):
    with pytest.raises(ControlError) as raised:
        sim_control.request(method, fleet.control_url + path)
    assert raised.value.status == status
    assert raised.value.message


def test_bad_json_body_is_a_400(fleet):
    request = urllib.request.Request(
        fleet.hosts[0].control_url + '/faults', data=b'{not json', method='POST', headers={'Authorization': 'Bearer ' + fleet.control_token}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(request, timeout=10)
    assert raised.value.code == 400
    assert 'error' in json.loads(raised.value.read())
