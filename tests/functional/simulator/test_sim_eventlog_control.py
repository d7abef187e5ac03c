# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The control endpoint's event log, rights and accounts routes."""

import time
import urllib.parse

import pytest

from xprotect_go_simulator import ControlError

RECORDING_SERVER = 'Milestone XProtect Recording Server'


@pytest.fixture
def host(sim_fleet):
    return sim_fleet(count=1, auth='basic', scheme='http').hosts[0]


def test_events_rights_and_accounts(host, sim_control):
    assert sim_control.get(host.control_url + '/events') == []
    url = '%s/services/%s' % (host.control_url, urllib.parse.quote(RECORDING_SERVER))
    sim_control.post(url, {'crash_after_seconds': 0})
    time.sleep(0.05)
    [crash] = sim_control.get(host.control_url + '/events')
    assert crash['EventCode'] == 7034 and crash['InsertionStrings'] == [RECORDING_SERVER, '1'] and crash['Type'] == 'Error'

    assert sim_control.get(host.control_url + '/rights') == {'event_log_readers': True}
    assert sim_control.post(host.control_url + '/rights', {'event_log_readers': False}) == {'event_log_readers': False}
    assert host.state.event_log_readers is False
    with pytest.raises(ControlError) as bad:
        sim_control.post(host.control_url + '/rights', {'event_log_readers': 'no'})
    assert bad.value.status == 400

    added = sim_control.post(host.control_url + '/accounts', {'name': 'XPGO\\svc-new', 'password': 'New-Pass-1!'})
    assert {'name': 'XPGO\\svc-new', 'upn': None, 'logon_right': True, 'has_password': True} in added
    assert 'New-Pass-1!' not in repr(sim_control.get(host.control_url + '/accounts'))
    with pytest.raises(ControlError) as bad:
        sim_control.post(host.control_url + '/accounts', {'name': 'no-domain'})
    assert bad.value.status == 400

    sim_control.post(host.control_url + '/reset')
    assert sim_control.get(host.control_url + '/events') == [] and sim_control.get(host.control_url + '/rights')['event_log_readers']
