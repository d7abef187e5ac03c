# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SELECT over Win32_DependentService: every dependency of several services in one query, as the collection asks for it
(_windows.HostServices.dependents_of), read back through the collection's own reply parser."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.module_utils import _wql
from ansible_collections.xprotect.go.plugins.module_utils._windows import SELECT_DEPENDENCIES, HostServices, ServiceStatus
from ansible_collections.xprotect.go.plugins.module_utils._wsman_xml import parse_enumerate_response
from xprotect_go_simulator import costs, soap
from xprotect_go_simulator.host import CIMV2_ALL_URI, SimulatedHost
from xprotect_go_simulator.profiles import EVENT_SERVER, RECORDING_SERVER

USER = 'xpgo-admin'


class HostClient:
    """The part of WsmanClient HostServices uses, answered by a SimulatedHost in process (one page is enough)."""

    def __init__(self, host):
        self.host = host
        self.queries = []

    def copy(self):
        return HostClient(self.host)

    def enumerate(self, wql, limit=None):
        self.queries.append(wql)
        body = soap.enumerate_body(wql, True, 1000)
        status, reply = self.host.handle(soap.build_request(soap.ACTION_ENUMERATE, CIMV2_ALL_URI, body), USER)
        assert status == 200, reply
        page = parse_enumerate_response(reply)
        assert page.end_of_sequence
        return page.items


def pairs(host, query):
    return [(item['Antecedent']['Name'], item['Dependent']['Name']) for item in HostClient(host).enumerate(query)]


def test_one_query_names_every_dependency_of_several_services():
    host = SimulatedHost('xpgo-07')
    query = _wql.build_or_chunks('Antecedent', ['RpcSs', 'SamSS'], SELECT_DEPENDENCIES)[0]
    assert query == SELECT_DEPENDENCIES + 'Antecedent = \'Win32_Service.Name="RpcSs"\' OR Antecedent = \'Win32_Service.Name="SamSS"\''
    found = pairs(host, query)
    assert ('RpcSs', RECORDING_SERVER) in found and ('RpcSs', 'WinRM') in found
    assert all(antecedent in ('RpcSs', 'SamSS') for antecedent, _dependent in found)
    # The same as one ASSOCIATORS OF query per service, which this one replaces.
    for name in ('RpcSs', 'SamSS'):
        wql = 'ASSOCIATORS OF {Win32_Service.Name="%s"} WHERE AssocClass = Win32_DependentService Role = Antecedent' % name
        expected = sorted(item['Name'] for item in HostClient(host).enumerate(wql))
        assert sorted(dependent for antecedent, dependent in found if antecedent == name) == expected


def test_references_compare_without_case_and_items_say_their_class():
    host = SimulatedHost('xpgo-07')
    items = HostClient(host).enumerate(SELECT_DEPENDENCIES + 'Antecedent = \'win32_service.name="rpcss"\'')
    assert items and all(item['__class__'] == 'Win32_DependentService' for item in items)
    assert all(item['Antecedent'] == {'Name': 'RpcSs', '__class__': 'Win32_Service'} for item in items)
    assert all(item['TypeOfDependency'] == '3' for item in items)
    assert HostClient(host).enumerate(SELECT_DEPENDENCIES + 'Antecedent = \'Win32_Service.Name="NoSuchService"\'') == []
    projected = HostClient(host).enumerate('SELECT Dependent FROM Win32_DependentService WHERE Antecedent = \'Win32_Service.Name="RpcSs"\'')
    assert sorted(item['Dependent']['Name'] for item in projected) == sorted(item['Dependent']['Name'] for item in items)


def test_dependents_of_reads_the_dependents_status_once_and_only_of_those_not_known():
    host = SimulatedHost('xpgo-07')
    client = HostClient(host)
    services = HostServices(client, 'xpgo-07')
    found = services.dependents_of(['RpcSs', 'SamSS', 'NoSuchService'], known={})
    assert set(found) == {'rpcss', 'samss', 'nosuchservice'} and found['nosuchservice'] == []
    assert RECORDING_SERVER in [status.name for status in found['rpcss']]
    assert [status.state for status in found['rpcss'] if status.name == RECORDING_SERVER] == ['started']
    assert len(client.queries) == 2 and client.queries[1].startswith('SELECT * FROM Win32_Service WHERE ')
    # Dependents already known need no read.
    client.queries.clear()
    known = {status.name.lower(): status for statuses in found.values() for status in statuses}
    assert services.dependents_of(['RpcSs', 'SamSS'], known=known) == {'rpcss': found['rpcss'], 'samss': found['samss']}
    assert len(client.queries) == 1


def test_the_query_is_priced_as_one_wql_enumeration():
    assert costs.classify(soap.ACTION_ENUMERATE, SELECT_DEPENDENCIES + 'Antecedent = \'Win32_Service.Name="RpcSs"\'') == costs.QUERY


def test_discovery_learns_the_dependencies_meanwhile_so_dependents_of_asks_nothing_more():
    host = SimulatedHost('xpgo-07')
    host.configure(EVENT_SERVER, depends_on=[RECORDING_SERVER])
    client = HostClient(host)
    services = HostServices(client, 'xpgo-07')
    records = services.discover(dependencies=True)
    copy = services.copies(1)[0].client
    assert len(client.queries) == 1 and len(copy.queries) == 1 and copy.queries[0].startswith(SELECT_DEPENDENCIES)
    known = {record['Name'].lower(): ServiceStatus(record) for record in records}
    found = services.dependents_of([RECORDING_SERVER], known)
    assert [status.name for status in found[RECORDING_SERVER.lower()]] == [EVENT_SERVER]
    assert len(client.queries) == 1, 'learnt during discovery: no query of its own'
    # A service discovery did not name is asked about as before.
    assert services.dependents_of(['RpcSs'], known)['rpcss']
    assert client.queries[1].startswith(SELECT_DEPENDENCIES)
