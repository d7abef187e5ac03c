# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A host under the windows cost model takes what Windows takes, by the simulator's own record (not the test's clock)."""

import pytest
import xmltodict

from xprotect_go_simulator import costs
from xprotect_go_simulator.__main__ import _fleet_from, build_parser

SERVICES_LISTED = 21  # the standard profile's services
TRANSFER_GET = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get'


def charged(running):
    stats = running.stats.as_dict()
    return stats['charged'], stats['charged_seconds']


def test_a_windows_host_takes_the_modelled_time_for_an_enumeration(sim_fleet, wsman):
    fleet = sim_fleet(cost_model='windows')
    running = fleet.hosts[0]
    items = wsman.enumerate_all(wsman.protocol_for(fleet), 'SELECT Name, State FROM Win32_Service WHERE Name LIKE "Milestone%"')
    assert len(items) == 6, 'the answer itself is what it always was'
    expected = round(costs.WINDOWS.seconds(costs.QUERY, SERVICES_LISTED), 6)
    # The provider walks a whole machine's services (131), not just the 6 selected: PR 1497's 0.4285 s.
    assert expected == 0.428515
    assert charged(running) == ({'query': {'count': 1, 'seconds': expected}}, expected)
    assert running.stats.as_dict()['delayed_seconds'] == 0.0, 'the cost is not the network delay'
    assert fleet.state_dict()['cost_model'] == 'windows'


def get_message(protocol, wsman, name):
    envelope = protocol.build_wsman_header(TRANSFER_GET, wsman.SERVICE_URI)
    envelope['env:Header']['w:SelectorSet'] = {'w:Selector': {'@Name': 'Name', '#text': name}}
    envelope['env:Body'] = None
    return xmltodict.unparse({'env:Envelope': envelope})


def test_gets_and_method_calls_are_charged_theirs(sim_fleet, wsman):
    fleet = sim_fleet(cost_model='windows')
    running = fleet.hosts[0]
    protocol = wsman.protocol_for(fleet)
    assert 'ReturnValue>0<' in protocol.send_message(wsman.invoke_message(protocol, 'StopService', 'Spooler')).decode()
    assert '<p:Name>Spooler</p:Name>' in protocol.send_message(get_message(protocol, wsman, 'Spooler')).decode()
    method, got = round(costs.WINDOWS.method, 6), round(costs.WINDOWS.get, 6)
    assert (method, got) == (0.118978, 0.117978)
    assert charged(running) == ({'method': {'count': 1, 'seconds': method}, 'get': {'count': 1, 'seconds': got}}, round(method + got, 6))


def test_an_ntlm_handshake_is_charged_once_per_connection(sim_fleet, wsman):
    fleet = sim_fleet(auth='ntlm', cost_model='windows')
    running = fleet.hosts[0]
    protocol = wsman.protocol_for(fleet)
    for _repeat in range(2):
        wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')
    by_kind, _seconds = charged(running)
    assert by_kind['handshake'] == {'count': 1, 'seconds': 0.01}, 'pywinrm keeps its authenticated connection'
    assert by_kind['query']['count'] == 2


def test_the_instant_model_is_the_default_and_charges_nothing(sim_fleet, wsman):
    fleet = sim_fleet()
    wsman.enumerate_all(wsman.protocol_for(fleet), 'SELECT Name FROM Win32_Service')
    assert fleet.cost_model is costs.INSTANT
    assert charged(fleet.hosts[0]) == ({}, 0.0)


def test_the_cli_selects_the_cost_model():
    parser = build_parser()
    for command in ('serve', 'fleet'):
        assert _fleet_from(parser.parse_args([command, '--cost-model', 'windows'])).cost_model is costs.WINDOWS
        assert _fleet_from(parser.parse_args([command])).cost_model is costs.INSTANT
    with pytest.raises(SystemExit):
        parser.parse_args(['fleet', '--cost-model', 'linux'])
