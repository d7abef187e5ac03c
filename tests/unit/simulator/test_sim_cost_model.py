# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The cost models: their figures, how a request is priced, and that a host is charged concurrently."""

from __future__ import annotations

import math
import threading

import pytest

from xprotect_go_simulator import costs, soap
from xprotect_go_simulator.costs import CostModel
from xprotect_go_simulator.host import SERVICE_URI, STDREGPROV_URI, SimulatedHost
from xprotect_go_simulator.listener import WsmanListener
from xprotect_go_simulator.profiles import RECORDING_SERVER

USER = 'xpgo-admin'
WQL_DIALECT = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'
CIMV2_ALL = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*'


def wql_enumerate(wql):
    body = '<n:Enumerate><w:OptimizeEnumeration/><w:Filter Dialect="%s">%s</w:Filter></n:Enumerate>' % (WQL_DIALECT, wql)
    return soap.build_request(soap.ACTION_ENUMERATE, CIMV2_ALL, body)


def get_request(name=RECORDING_SERVER):
    return soap.build_request(soap.ACTION_GET, SERVICE_URI, selectors={'Name': name})


def test_the_windows_model_reproduces_the_published_whole_machine_query():
    model = costs.WINDOWS
    # windows_exporter PR 1497: 0.4285 s for the WMI query of every service of its machine.
    assert math.isclose(model.seconds(costs.QUERY, listed_services=21), 0.4285152, abs_tol=1e-9)
    # Its fixed part is the WMI figure less the per-service work the API figure measured: 0.4285 - (0.3175 - 0.0046).
    assert math.isclose(model.query, 0.4285152 - (0.3175442 - 0.0046183), abs_tol=1e-9)
    assert math.isclose(model.per_service * 131, 0.3175442 - 0.0046183, abs_tol=1e-9)
    assert model.machine_services == 131
    # A Get is the fixed WMI part and one service; a method call adds one SCM call (1 ms, PowerShell issue 9871).
    assert math.isclose(model.get, model.query + model.per_service, abs_tol=1e-12)
    assert math.isclose(model.method, model.get + 0.001, abs_tol=1e-12)
    assert (model.pull, model.handshake, model.event_query) == (0.0, 0.010, model.query)


def test_a_query_walks_every_service_whatever_it_selects_and_at_least_a_whole_machine():
    model = CostModel('test', query=0.1, per_service=0.01, machine_services=100)
    # The simulated host lists 21 services, a real machine has 100: the provider walks 100 either way.
    assert math.isclose(model.seconds(costs.QUERY, 21), 0.1 + 100 * 0.01)
    # A host listing more than a whole machine pays for each of them.
    assert math.isclose(model.seconds(costs.QUERY, 150), 0.1 + 150 * 0.01)
    assert model.walked(0) == 100 and model.walked(150) == 150


def test_the_instant_model_charges_nothing():
    assert [costs.INSTANT.seconds(kind, 500) for kind in costs.KINDS] == [0.0] * len(costs.KINDS)
    assert costs.describe(costs.INSTANT).startswith('instant')
    assert costs.describe(costs.WINDOWS).startswith('windows: WQL query 0.1156 s + 0.00239 s per service walked (at least 131)')


def test_models_are_found_by_name_and_bad_ones_refused():
    assert costs.resolve(None) is costs.INSTANT
    assert costs.resolve('windows') is costs.WINDOWS
    custom = CostModel('custom', get=1.0)
    assert costs.resolve(custom) is custom
    with pytest.raises(ValueError, match='instant, windows'):
        costs.resolve('linux')
    for bad in (-1, float('nan'), float('inf'), True, '1'):
        with pytest.raises(ValueError, match='get must be a number of 0 or more'):
            CostModel('bad', get=bad)
    with pytest.raises(ValueError, match='unknown operation kind'):
        costs.WINDOWS.seconds('reboot')


@pytest.mark.parametrize(
    'action, text, kind',
    [
        (soap.ACTION_ENUMERATE, 'SELECT Name, State FROM Win32_Service WHERE Name = "x"', costs.QUERY),
        (soap.ACTION_ENUMERATE, "ASSOCIATORS OF {Win32_Service.Name='RpcSs'} WHERE AssocClass = Win32_DependentService", costs.QUERY),
        (soap.ACTION_ENUMERATE, 'SELECT * FROM Win32_NTLogEvent WHERE Logfile = "System"', costs.EVENT_QUERY),
        (soap.ACTION_PULL, '', costs.PULL),
        (soap.ACTION_RELEASE, '', costs.PULL),
        (soap.ACTION_GET, '', costs.GET),
        (SERVICE_URI + '/StartService', '', costs.METHOD),
        (STDREGPROV_URI + '/SetDWORDValue', '', costs.METHOD),
        ('http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command', '', None),
        (None, '', None),
    ],
)
def test_requests_are_priced_by_what_windows_does_for_them(action, text, kind):
    assert costs.classify(action, text) == kind


class BarrierStopping:
    """Stands in for a listener's stop event: every wait meets the others at a barrier instead of sleeping."""

    def __init__(self, parties):
        self.barrier = threading.Barrier(parties)

    def wait(self, _seconds):
        self.barrier.wait(timeout=10)  # breaks (and the test fails) unless `parties` charges are in flight at once
        return False

    def is_set(self):
        return False


def test_a_host_is_charged_for_concurrent_requests_at_once_and_records_it():
    host = SimulatedHost('xpgo-001')
    model = CostModel('test', query=0.5, per_service=0.01, machine_services=100, get=0.2)
    listener = WsmanListener(host, users={USER: 'pw'}, cost_model=model)
    listener._stopping = BarrierStopping(2)  # pylint: disable=protected-access
    requests = [wql_enumerate('SELECT Name FROM Win32_Service'), get_request()]
    answers = []
    threads = [threading.Thread(target=lambda body=body: answers.append(listener.process(body, USER))) for body in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert [status for status, _reply, _lost in answers] == [200, 200], 'both requests were answered'
    stats = listener.stats.as_dict()
    assert stats['charged'] == {'query': {'count': 1, 'seconds': 1.5}, 'get': {'count': 1, 'seconds': 0.2}}
    assert stats['charged_seconds'] == 1.7


def test_requests_no_model_prices_and_the_instant_model_record_nothing():
    listener = WsmanListener(SimulatedHost('xpgo-001'), users={USER: 'pw'})
    assert listener.cost_model is costs.INSTANT
    status, _reply, _lost = listener.process(get_request(), USER)
    assert status == 200
    assert listener.stats.as_dict()['charged'] == {} and listener.stats.as_dict()['charged_seconds'] == 0.0
