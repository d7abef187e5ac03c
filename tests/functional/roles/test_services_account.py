# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The services role's log-on account: the manual's Image Server caveat fixed in one run, idempotent afterwards."""

from __future__ import annotations

import yaml

IMAGE_SERVER = 'Milestone Image Server'


def test_services_account_fixes_the_image_server_caveat(xprotect_fleet, tmp_path, run_playbook, sim_control):
    sim = xprotect_fleet({'image_server_domain_account': 1}, 1)
    host = sim.host(sim.names[0])
    play = tmp_path / 'play.yml'
    play.write_text(
        yaml.safe_dump(
            [
                {
                    'hosts': 'xprotect',
                    'gather_facts': False,
                    'roles': [
                        {
                            'role': 'xprotect.go.services',
                            'services_state': 'restarted',
                            'services_account': 'LocalSystem',
                            'services_settle_seconds': 0,
                        }
                    ],
                }
            ]
        )
    )
    run = run_playbook(play, sim.inventory)
    assert run.recap[host.name]['failed'] == 0
    assert all(
        entry['StartName'] == 'LocalSystem'
        for name, entry in sim_control.get(host.control_url + '/services').items()
        if name == IMAGE_SERVER
    )
    [converged] = [result for result in run.results if result.task.endswith('Converge the XProtect services')]
    assert converged.result['restart_required'] is False and converged.result['services']['image_server']['actions'] == [
        'change_account',
        'stop',
        'start',
    ]

    # Once the accounts are right, started converges with nothing to do.
    play.write_text(
        yaml.safe_dump(
            [
                {
                    'hosts': 'xprotect',
                    'gather_facts': False,
                    'roles': [{'role': 'xprotect.go.services', 'services_account': 'LocalSystem', 'services_settle_seconds': 0}],
                }
            ]
        )
    )
    run = run_playbook(play, sim.inventory)
    assert run.recap[host.name]['changed'] == 0, run.stdout
