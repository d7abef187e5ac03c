# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet_report role's one fleet-wide read (xprotect.go.fleet_service_info) against simulated fleets:
the same report as the read host by host, and each host read with its own credentials only."""

from __future__ import annotations

import re

import pytest
import yaml

from .helpers import RECORDING_SERVER

pytestmark = pytest.mark.slow

MIXED = {'standard': 3, 'custom': 1, 'image_server_domain_account': 1}
GENERATED = re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC')


def add_hosts(inventory, hosts, group_vars=None):
    """Add hosts or host variables (name -> variables) and group variables to the simulated fleet's inventory file."""
    data = yaml.safe_load(inventory.read_text(encoding='utf-8'))
    group = data['all']['children']['xprotect']
    for name, variables in hosts.items():
        group['hosts'].setdefault(name, {}).update(variables)
    group['vars'].update(group_vars or {})
    inventory.write_text(yaml.safe_dump(data, sort_keys=False), encoding='utf-8')


def report_files(directory):
    """The HTML and JSON report, their time stamps blanked: the one part that differs from run to run."""
    return [GENERATED.sub('<generated>', (directory / name).read_text(encoding='utf-8')) for name in ('r.html', 'r.json')]


def reports_both_ways(run_playbook, inventory, tmp_path, *args, env=None):
    """{'fleet': files, 'per-host': files}: the report written by the status playbook's one fleet-wide read, and by the
    same role reading host by host (the per-host play kept as a fixture), each into its own directory."""
    reports = {}
    for way, playbook in (('fleet', 'playbooks/status.yml'), ('per-host', 'tests/functional/roles/playbooks/status_per_host.yml')):
        directory = tmp_path / way
        directory.mkdir()
        run_playbook(playbook, inventory, '-e', 'fleet_report_dir=%s' % directory, '-e', 'fleet_report_name=r', *args, env=env)
        reports[way] = report_files(directory)
    return reports


def test_the_fleet_read_writes_the_report_the_per_host_read_wrote(xprotect_fleet, run_playbook, sim_control, tmp_path):
    sim = xprotect_fleet(MIXED, 5, extra={1: {RECORDING_SERVER: {'State': 'Stopped'}}})
    failing, _stopped, unreachable, _custom, _domain = sim.names
    sim_control.post(sim.host(failing).control_url + '/faults', {'http_500': True})
    sim_control.post(sim.host(unreachable).control_url + '/faults', {'refuse': True})
    # A host whose address cannot be an endpoint fails alone, with the message service_info gives it.
    add_hosts(sim.inventory, {'xpgo-bad': {'ansible_host': 'nvr 01.example.com', 'ansible_port': 5985}})
    reports = reports_both_ways(run_playbook, sim.inventory, tmp_path)

    assert reports['fleet'] == reports['per-host']
    assert '"name": "xpgo-bad"' in reports['fleet'][1] and 'is not a DNS name' in reports['fleet'][1]
    assert '"verdict": "unreachable"' in reports['fleet'][1] and '"verdict": "not_recording"' in reports['fleet'][1]


def test_each_host_is_read_with_its_own_credentials_only(sim_fleet, run_playbook, tmp_path):
    fleet = sim_fleet(2, extra_users={'alice': 'Alice-Pass-1!', 'bob': 'Bob-Pass-2!'})
    inventory = tmp_path / 'inventory.yml'
    fleet.write_inventory(str(inventory))
    first, second = fleet.hosts
    # The group's credentials are templates, resolved in each host's own context; the second host has its own.
    add_hosts(
        inventory,
        {
            first.name: {'site_user': 'alice', 'site_password': 'Alice-Pass-1!'},
            second.name: {'ansible_user': 'bob', 'ansible_password': 'Bob-Pass-2!'},
        },
        {'ansible_user': '{{ site_user }}', 'ansible_password': '{{ site_password }}'},
    )
    seen = {first.name: set(), second.name: set()}
    for running in fleet.hosts:
        running.listener.find_user = recorder(running.listener.find_user, seen[running.name])

    # Were a host sent the other's credentials, the run would fail: both would be unknown (or worse).
    run = run_playbook(
        'playbooks/status.yml',
        inventory,
        '-e',
        'fleet_report_dir=%s' % tmp_path,
        '-e',
        '{"fleet_report_fail_on": ["unknown", "unreachable"]}',
    )

    assert seen == {first.name: {'alice'}, second.name: {'bob'}}
    assert 'Alice-Pass-1!' not in run.stdout + run.stderr and 'Bob-Pass-2!' not in run.stdout + run.stderr
    assert 'Alice-Pass-1!' not in (tmp_path / 'xprotect-fleet-report.json').read_text(encoding='utf-8')


def recorder(find_user, names):
    """find_user that also notes each user name a client logged on with (Basic: every request)."""

    def find(name):
        names.add(name)
        return find_user(name)

    return find


def test_a_user_from_outside_the_inventory_counts_as_for_a_task_on_each_host(sim_fleet, run_playbook, tmp_path):
    """ANSIBLE_REMOTE_USER (as ansible.cfg's remote_user, or -u) gives the user when the inventory does not: the fleet
    read asks each host's winrm connection plugin, as a task on that host does, so both reports are the same."""
    fleet = sim_fleet(2)
    inventory = tmp_path / 'inventory.yml'
    fleet.write_inventory(str(inventory))
    data = yaml.safe_load(inventory.read_text(encoding='utf-8'))
    user = data['all']['children']['xprotect']['vars'].pop('ansible_user')
    inventory.write_text(yaml.safe_dump(data, sort_keys=False), encoding='utf-8')

    reports = reports_both_ways(
        run_playbook, inventory, tmp_path, '-e', '{"fleet_report_fail_on": ["unknown", "unreachable"]}', env={'ANSIBLE_REMOTE_USER': user}
    )
    assert reports['fleet'] == reports['per-host']
    assert reports['fleet'][1].count('"verdict": "recording"') == 2
