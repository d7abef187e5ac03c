# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The self-healing guardrails, decided where the whole fleet is seen: in the event source.

Private to the collection: its interface may change without notice. Plain Python, no Ansible.

The event source xprotect.go.service_status asks HealGuard.consider() after every read of a host.
The answer is at most one decision:
  heal       start this host's Recording Server now (the rulebook runs xprotect.go.heal on it)
  deferred   it should be started, but as many hosts as allowed are being healed already: it waits
  giving_up  it stopped again after max_per_hour heals within the last hour: no more heals
Rules, in this order:
  - Under maintenance (the host's switch or the fleet's) nothing is decided, a heal in flight is
    forgotten, and the host's count starts afresh: a person is at work on it.
  - A heal is in flight from its decision until the Recording Server is seen running, or seen
    stopped after it was seen starting (the start failed: the attempt is over), or heal_timeout
    seconds passed (the outcome was not seen: the attempt counts as over).
  - Only a stopped Recording Server is healed; pending states are left to finish.
  - No more than max_concurrent hosts are healed at once (the rolling restart's limit of
    Recording Servers down at once); the others wait and are healed as heals end.
  - A host given up on stays so until its Recording Server is seen running again (someone started
    it) or it goes through maintenance; then its count starts afresh.
The state is in memory: restarting the rulebook starts every count afresh.
"""

from __future__ import annotations

import collections
import typing as t

WINDOW = 3600.0  # seconds: "per hour"

HEAL = 'heal'
DEFERRED = 'deferred'
GIVING_UP = 'giving_up'


class _HostRecord:
    __slots__ = ('heals', 'since', 'progressed', 'given_up', 'deferred')

    def __init__(self) -> None:
        self.heals: t.Deque[float] = collections.deque()  # when each heal of the window was decided
        self.since: t.Optional[float] = None  # the heal in flight was decided then
        self.progressed = False  # the Recording Server was seen starting since
        self.given_up = False
        self.deferred = False


class Decision:
    """What to do about one host, and the figures an event shows with it."""

    def __init__(self, kind: str, **details: t.Any) -> None:
        self.kind = kind
        self.details = details

    def __repr__(self) -> str:
        return 'Decision(%s, %r)' % (self.kind, self.details)


class HealGuard:
    """Heals per host per hour, heals at once, maintenance: one instance for the whole fleet."""

    def __init__(self, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise ValueError('max_concurrent must be at least 1')
        self.max_concurrent = max_concurrent
        self._hosts: t.Dict[str, _HostRecord] = {}

    @property
    def healing(self) -> int:
        """Heals in flight, fleet-wide."""
        return sum(1 for record in self._hosts.values() if record.since is not None)

    def in_flight(self, host: str) -> bool:
        record = self._hosts.get(host)
        return record is not None and record.since is not None

    def given_up(self, host: str) -> bool:
        record = self._hosts.get(host)
        return record is not None and record.given_up

    def consider(
        self, host: str, state: t.Optional[str], maintenance: bool, max_per_hour: int, timeout: float, now: float
    ) -> t.Optional[Decision]:
        """The decision for host after a read.

        state: the Recording Server's state in the collection's words ('started', 'stopped',
        'start_pending', ...), None when it is not installed or the host did not answer.
        now: a monotonic clock, in seconds.
        """
        record = self._hosts.setdefault(host, _HostRecord())
        while record.heals and now - record.heals[0] >= WINDOW:
            record.heals.popleft()
        if record.since is not None:
            if state in ('start_pending', 'started'):
                record.progressed = True
            if maintenance or state == 'started' or (state == 'stopped' and record.progressed) or now - record.since >= timeout:
                record.since, record.progressed = None, False
        if maintenance:
            record.heals.clear()
            record.given_up = record.deferred = False
            return None
        if state == 'started':
            if record.given_up:
                record.heals.clear()
                record.given_up = False
            record.deferred = False
            return None
        if state != 'stopped' or record.since is not None or record.given_up:
            return None
        if len(record.heals) >= max_per_hour:
            record.given_up, record.deferred = True, False
            return Decision(GIVING_UP, attempts=len(record.heals), max_per_hour=max_per_hour)
        healing = self.healing
        if healing >= self.max_concurrent:
            if record.deferred:
                return None
            record.deferred = True
            return Decision(DEFERRED, healing=healing, max_concurrent=self.max_concurrent)
        record.deferred = False
        record.since, record.progressed = now, False
        record.heals.append(now)
        return Decision(HEAL, attempt=len(record.heals), max_per_hour=max_per_hour, healing=healing + 1, max_concurrent=self.max_concurrent)
