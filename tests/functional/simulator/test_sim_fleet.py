# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fleets: addresses, profiles, inventories, start/stop of 200 hosts without leftovers."""

import threading
import time

import pytest
import yaml

from xprotect_go_simulator import Fleet, host_address, profile_sequence


def test_addresses_continue_past_127_0_0_250():
    assert [host_address(index) for index in (0, 1, 248, 249, 250, 497, 498)] == [
        '127.0.0.2',
        '127.0.0.3',
        '127.0.0.250',
        '127.0.1.2',
        '127.0.1.3',
        '127.0.1.250',
        '127.0.2.2',
    ]


def test_profile_mix_is_deterministic():
    assert profile_sequence(9, {'standard': 3, 'custom': 1}) == ['standard'] * 3 + ['custom'] + ['standard'] * 3 + ['custom', 'standard']
    assert profile_sequence(4, 'standard=1,image_server_domain_account=2') == [
        'standard',
        'image_server_domain_account',
        'image_server_domain_account',
        'standard',
    ]
    assert profile_sequence(2, None, 'custom') == ['custom', 'custom']
    with pytest.raises(ValueError):
        profile_sequence(2, {'standard': 0})


def test_fleet_hosts_and_inventory(sim_fleet, tmp_path):
    fleet = sim_fleet(
        count=5, profile_mix={'standard': 3, 'custom': 1}, auth='ntlm', overrides_per_host=None, extra_users={'operator': 'Op-Pass-1!'}
    )
    assert [running.name for running in fleet.hosts] == ['xpgo-001', 'xpgo-002', 'xpgo-003', 'xpgo-004', 'xpgo-005']
    assert [running.address for running in fleet.hosts] == ['127.0.0.%d' % number for number in range(2, 7)]
    assert [running.profile for running in fleet.hosts] == ['standard', 'standard', 'standard', 'custom', 'standard']
    assert 'Milestone Mobile Service' not in fleet.hosts[3].state.snapshot()
    assert fleet.ca_path is None

    path = fleet.write_inventory(str(tmp_path / 'inventory.yml'), group='sim')
    inventory = yaml.safe_load(open(path, encoding='utf-8'))
    group = inventory['all']['children']['sim']
    assert group['vars'] == {
        'ansible_connection': 'winrm',
        'ansible_user': 'xpgo-admin',
        'ansible_winrm_transport': 'ntlm',
        'ansible_winrm_scheme': 'http',
        'ansible_winrm_path': '/wsman',
        'ansible_winrm_message_encryption': 'auto',
        'ansible_password': 'Sim-Pass-123!',
        'xprotect_go_simulator_control_token': fleet.control_token,
    }
    assert group['hosts']['xpgo-002'] == {
        'ansible_host': '127.0.0.3',
        'ansible_port': fleet.hosts[1].port,
        'xprotect_go_simulator_control': fleet.control_url + '/hosts/xpgo-002',
    }


def test_extra_users_can_log_on(sim_fleet, wsman):
    fleet = sim_fleet(auth='ntlm', extra_users={'operator': 'Op-Pass-1!'})
    protocol = wsman.protocol_for(fleet, username='operator', password='Op-Pass-1!')
    assert wsman.enumerate_all(protocol, 'SELECT Name FROM Win32_Service')


def test_certificate_fleet_inventory_names_the_client_certificate(sim_fleet, tmp_path):
    fleet = sim_fleet(count=2, auth='certificate')
    group = yaml.safe_load(open(fleet.write_inventory(str(tmp_path / 'inv.yml')), encoding='utf-8'))['all']['children']['xprotect']
    assert group['vars']['ansible_winrm_transport'] == 'certificate'
    assert group['vars']['ansible_winrm_cert_pem'] == fleet.client_cert_path
    assert group['vars']['ansible_winrm_cert_key_pem'] == fleet.client_key_path
    assert group['vars']['ansible_winrm_ca_trust_path'] == fleet.ca_path
    assert 'ansible_password' not in group['vars']


def test_overrides_per_host_reach_the_hosts(sim_fleet):
    fleet = sim_fleet(count=2, overrides_per_host={'xpgo-002': {'Spooler': {'State': 'Stopped'}}})
    assert fleet.hosts[0].state.snapshot()['Spooler']['State'] == 'Running'
    assert fleet.hosts[1].state.snapshot()['Spooler']['State'] == 'Stopped'


@pytest.mark.slow
def test_two_hundred_hosts_start_and_stop_without_leftover_threads(wsman):
    before = set(threading.enumerate())
    started = time.monotonic()
    fleet = Fleet(count=200, profile_mix={'standard': 3, 'custom': 1}, auth='basic')
    try:
        fleet.start()
        start_seconds = time.monotonic() - started
        assert len({(running.address, running.port) for running in fleet.hosts}) == 200
        # The last host answers, over TLS, with the fleet's one server certificate.
        last = fleet.hosts[-1]
        assert last.address == '127.0.0.201'
        assert wsman.enumerate_all(wsman.protocol_for(fleet, last), 'SELECT Name FROM Win32_Service')
    finally:
        stop_started = time.monotonic()
        fleet.stop()
        stop_seconds = time.monotonic() - stop_started
    print('200-host fleet: started in %.2f s, stopped in %.2f s' % (start_seconds, stop_seconds))
    assert wsman.wait_for_threads(before) == []


def test_stop_leaves_no_threads_after_traffic(wsman):
    before = set(threading.enumerate())
    with Fleet(count=3, auth='ntlm') as fleet:
        for running in fleet.hosts:
            assert wsman.enumerate_all(wsman.protocol_for(fleet, running), 'SELECT Name FROM Win32_Service')
        assert len(threading.enumerate()) > len(before)
    assert wsman.wait_for_threads(before) == []


def test_sim_host_fixture_is_one_standard_basic_https_host(sim_host, sim_control, wsman):
    assert sim_host.profile == 'standard' and sim_host.scheme == 'https' and sim_host.fleet.auth == 'basic'
    assert sim_control.get(sim_host.control_url)['endpoint'] == sim_host.endpoint
    assert wsman.enumerate_all(wsman.protocol_for(sim_host.fleet, sim_host), 'SELECT Name FROM Win32_Service')


@pytest.mark.parametrize('value', [None, 'windows-hosts.yml'])
def test_real_inventory_fixture_follows_the_environment(request, monkeypatch, tmp_path, value):
    if value is None:
        monkeypatch.delenv('XPGO_TEST_INVENTORY', raising=False)
        assert request.getfixturevalue('real_inventory') is None
    else:
        monkeypatch.setenv('XPGO_TEST_INVENTORY', str(tmp_path / value))
        assert request.getfixturevalue('real_inventory') == str(tmp_path / value)
