# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""HostServices' queries: never longer than Windows accepts, split and merged when many names are given."""

from __future__ import annotations

from ansible_collections.xprotect.go.plugins.module_utils._windows import HostServices, ServiceStatus
from ansible_collections.xprotect.go.plugins.module_utils._wql import MAX_WQL_CHARS


class Settings:
    connection_timeout = 7


class RecordingClient:
    """Answers each WQL query with the installed services it names, and remembers every query."""

    settings = Settings()

    def __init__(self, installed):
        self.installed = installed
        self.queries = []

    def enumerate(self, wql):
        self.queries.append(wql)
        return [
            {'Name': name, 'State': 'Running'}
            for name in self.installed
            if "Name = '%s'" % name in wql or ('Milestone' in name and "LIKE '%Milestone%'" in wql)
        ]


def long_names(count, length=200):
    return ['Svc%04d-%s' % (index, 'x' * (length - 8)) for index in range(count)]


def test_a_usual_discovery_is_one_query():
    client = RecordingClient(['Milestone XProtect Recording Server'])
    HostServices(client, 'h').discover({'recording_server': 'Milestone XProtect Recording Server'}, extra_names=['Spooler'])
    assert len(client.queries) == 1


def test_discovery_with_many_names_is_split_below_the_limit_and_merged():
    names = long_names(200)
    client = RecordingClient(['Milestone XProtect Recording Server', names[0], names[-1], 'Spooler'])
    records = HostServices(client, 'h').discover({'recording_server': names[0]}, extra_names=names + ['Spooler'])
    assert len(client.queries) >= 3
    assert all(len(query) <= MAX_WQL_CHARS for query in client.queries)
    assert all(query.startswith('SELECT * FROM Win32_Service WHERE ') for query in client.queries)
    assert sum(query.count("Name = '") for query in client.queries) >= len(names) + 1, 'every name asked for'
    # A service several queries return is there once.
    assert sorted(record['Name'] for record in records) == sorted({'Milestone XProtect Recording Server', names[0], names[-1], 'Spooler'})


def test_a_poll_of_many_names_is_split_and_merged():
    names = long_names(150)
    client = RecordingClient(names[::10])
    statuses = HostServices(client, 'h').poll(names)
    assert len(client.queries) == 2 and all(len(query) <= MAX_WQL_CHARS for query in client.queries)
    assert set(statuses) == {name.lower() for name in names[::10]}


def test_a_usual_discovery_is_the_query_it_always_was():
    client = RecordingClient([])
    HostServices(client, 'h').discover()
    query = client.queries[0]
    assert query.startswith("SELECT * FROM Win32_Service WHERE Name LIKE '%Milestone%' OR ")
    assert "PathName LIKE '%VideoOS.%' OR " in query and query.endswith("Name = 'MilestoneEventServerService'")


def test_a_poll_of_nothing_asks_nothing():
    client = RecordingClient([])
    assert HostServices(client, 'h').poll(set()) == {} and client.queries == []


def test_request_timeout_is_the_clients_connection_timeout():
    assert HostServices(RecordingClient([]), 'h').request_timeout == 7
    assert HostServices(object(), 'h').request_timeout is None


def test_a_status_reads_the_wait_hint_in_seconds_and_the_check_point():
    pending = ServiceStatus({'Name': 'x', 'State': 'Start Pending', 'WaitHint': '2500', 'CheckPoint': '3'})
    assert (pending.wait_hint, pending.check_point) == (2.5, 3)
    unknown = ServiceStatus({'Name': 'x', 'State': 'Running'})
    assert (unknown.wait_hint, unknown.check_point) == (0.0, 0), 'not pending, or not reported: 0, as Windows reports it'
