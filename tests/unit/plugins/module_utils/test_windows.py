# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""HostServices' queries: never longer than Windows accepts, split and merged when many names are given; a poll of each
service by its own Get, all at once."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._windows import MAX_SESSIONS, HostServices, ServiceStatus
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


class SessionClient(RecordingClient):
    """A client that can be copied (a session of its own each) and answers Gets too; every copy notes in the same
    list which session asked what, and Gets wait at a barrier until `together` of them are in flight at once."""

    def __init__(self, installed, log=None, together=1, failing=None):
        super().__init__(installed)
        self.log = [] if log is None else log
        self.together = together
        self.barrier = threading.Barrier(together) if together > 1 else None
        self.failing = failing or {}

    def copy(self):
        twin = SessionClient(self.installed, self.log, self.together, self.failing)
        twin.barrier = self.barrier
        return twin

    def enumerate(self, wql):
        self.log.append((id(self), 'enumerate'))
        return super().enumerate(wql)

    def get(self, class_name, selectors):
        self.log.append((id(self), 'get', class_name, selectors['Name']))
        if self.barrier is not None:
            self.barrier.wait(timeout=5)  # every Get in flight at the same time, or this one fails the test
        if selectors['Name'] in self.failing:
            raise XProtectError('h: %s' % self.failing[selectors['Name']], host='h', kind=self.failing[selectors['Name']])
        if selectors['Name'] not in self.installed:
            raise XProtectError('h: no such instance', host='h', kind='not_found')
        return {'Name': selectors['Name'], 'State': 'Stop Pending', 'WaitHint': '3000', 'CheckPoint': '2'}


def test_a_poll_of_each_service_gets_them_all_at_once_each_over_a_session_of_its_own():
    names = ['Milestone Image Server', 'Milestone Log Check Service', 'Milestone Mobile Service']
    client = SessionClient(names, together=3)
    statuses = HostServices(client, 'h').poll(names, each=True)
    assert sorted(statuses) == sorted(name.lower() for name in names)
    assert (statuses['milestone mobile service'].windows_state, statuses['milestone mobile service'].wait_hint) == ('Stop Pending', 3.0)
    gets = [entry for entry in client.log if entry[1] == 'get']
    assert len(gets) == 3 and len({entry[0] for entry in gets}) == 3, 'one session each'
    assert not client.queries, 'no query'


def test_a_poll_of_each_leaves_out_a_service_windows_does_not_have_and_raises_any_other_failure_once_all_are_in():
    services = HostServices(SessionClient(['A'], together=2), 'h')
    assert list(services.poll(['A', 'Gone'], each=True)) == ['a']
    client = SessionClient(['A', 'B'], together=2, failing={'B': 'timeout'})
    with pytest.raises(XProtectError, match='h: timeout') as error:
        HostServices(client, 'h').poll(['A', 'B'], each=True)
    assert error.value.kind == 'timeout'
    assert len([entry for entry in client.log if entry[1] == 'get']) == 2, 'the other Get ended before the error was raised'


def test_a_poll_of_each_is_one_query_for_many_services_or_a_client_that_cannot_be_copied():
    many = ['Svc%02d' % index for index in range(MAX_SESSIONS + 1)]
    client = SessionClient(many)
    assert len(HostServices(client, 'h').poll(many, each=True)) == len(many)
    assert [entry[1] for entry in client.log] == ['enumerate']
    plain = RecordingClient(['A', 'B'])
    assert len(HostServices(plain, 'h').poll(['A', 'B'], each=True)) == 2 and len(plain.queries) == 1
