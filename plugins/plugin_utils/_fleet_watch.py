# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Watch a fleet's XProtect services and tell what changed: the event source xprotect.go.service_status.

Private to the collection: its interface may change without notice.

  parse_arguments, load_targets (in _fleet_targets)   the arguments and the hosts to watch
  FleetWatch(settings, targets).run(queue)           the asyncio loop: one task per host, reads in threads

Every host is read with one WS-Management round trip per interval (a discovery the first time,
then a status query by name), in a bounded pool of threads so that the blocking client never runs
on the event loop. Events follow the shape documented in the source plugin (EVENTS there).
ansible-core is imported only to read an inventory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import logging
import time
import typing as t

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog
from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils import _health as health
from ansible_collections.xprotect.go.plugins.module_utils import _maintenance as maintenance
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._windows import HostServices, ServiceStatus
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient
from ansible_collections.xprotect.go.plugins.plugin_utils._heal_guard import DEFERRED, GIVING_UP, HEAL, HealGuard
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_targets import (
    EVENT_KEY,
    HOST_REACHABLE,
    HOST_UNREACHABLE,
    RECORDING_SERVER,
    SERVICE_STATE,
    Target,
    WatchSettings,
)

logger = logging.getLogger('xprotect.go.service_status')


# ---------------------------------------------------------------------------------------------


def host_verdict(statuses: t.Optional[dict]) -> t.Optional[str]:
    """The host's verdict (_health's rules, as service_info gives it) for the events' ``verdict`` field.

    ``statuses`` maps the watched catalog keys to what was read; a key without a status counts as not
    installed. The event source does not read the event log, so the recent-failure rule cannot fire here.
    """
    if not statuses:
        return None
    services = {key: dict(status.facts(), installed=True) for key, status in statuses.items() if status is not None}
    return str(health.host_verdict(services)['verdict'])


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def event(kind: str, host: str, fields: dict) -> dict:
    """One event: our fields under EVENT_KEY, and meta.hosts so that run_playbook limits itself to the host."""
    body = {'type': kind, 'host': host, 'time': _utc_now()}
    body.update(fields)
    return {EVENT_KEY: body, 'meta': {'hosts': host}}


class Reading:
    """What one read of a host found: the maintenance switches, and the services or the error."""

    __slots__ = ('maintenance', 'statuses', 'error', 'seconds')

    def __init__(
        self, maintenance_on: bool, statuses: t.Optional[dict] = None, error: t.Optional[XProtectError] = None, seconds: float = 0.0
    ) -> None:
        self.maintenance = maintenance_on
        self.statuses = statuses
        self.error = error
        self.seconds = seconds


class HostWatch:
    """One host: reads it (in a worker thread), remembers what it saw, and turns differences into events."""

    def __init__(self, target: Target, maintenance_dir: str, client_factory: t.Callable[[t.Any], t.Any] = WsmanClient) -> None:
        self.target = target
        self.name = target.name
        self.maintenance_dir = maintenance_dir
        self._client_factory = client_factory
        self._services: t.Optional[HostServices] = None
        self._names: t.Optional[dict] = None  # catalog key -> Windows name, after a discovery
        self.known: t.Dict[str, dict] = {}  # catalog key -> the last facts seen
        self.reachable: t.Optional[bool] = None  # None until the first read
        self.failures = 0
        self.down_since: t.Optional[float] = None
        self.reads = 0  # reads of the host, answered or not
        self.round_trips = 0  # WS-Management requests those reads sent

    # -- in a worker thread ------------------------------------------------------------------------

    def read(self) -> Reading:
        """Blocking: the services in one round trip, then the maintenance switches. Never raises for the host's faults.

        The switches are read after the services, so that they are at least as new as the state: the stop
        playbook turns a host's switch on before it stops anything, so a stop it made is never seen without it.
        """
        started = time.monotonic()
        self.reads += 1
        statuses, failure = None, None
        try:
            statuses = self._read_services()
        except XProtectError as error:
            self._services = None  # a new client (and handshake) after any failure
            failure = error
        except Exception as error:  # pylint: disable=broad-exception-caught
            # A bug must not end the watch of the whole fleet: report it as this host's failure.
            self._services = None
            text = errors.scrub('%s: %s' % (type(error).__name__, error), self.target.settings.password, self.target.settings.username)
            failure = XProtectError(text, host=self.name, kind=errors.ERROR)
        try:
            switched = maintenance.read(self.maintenance_dir, self.name)['active']
        except maintenance.MaintenanceError as error:
            # Cannot tell: act as if it were on, so that nothing is started behind an operator's back.
            logger.warning('%s: %s; treating the host as under maintenance', self.name, error)
            switched = True
        return Reading(switched, statuses=statuses, error=failure, seconds=time.monotonic() - started)

    def _read_services(self) -> dict:
        """{catalog key: ServiceStatus or None when it is gone}; a discovery the first time, then a query by name."""
        if self._services is None:
            client = self._client_factory(self.target.settings)
            self._services = HostServices(client, self.target.settings.host)
        client = self._services.client
        before = client.round_trips
        try:
            if not self._names:
                records = self._services.discover(self.target.service_names)
                matched = catalog.match_services(records, self.target.service_names)
                self._names = {key: record['Name'] for key, record in matched.items()}
                return {key: ServiceStatus(record) for key, record in matched.items()}
            found = self._services.poll(sorted(self._names.values()))
            statuses = {key: found.get(name.lower()) for key, name in self._names.items()}
            if None in statuses.values():
                self._names = None  # a service went away: discover again next time
            return statuses
        finally:
            self.round_trips += client.round_trips - before

    # -- on the event loop -------------------------------------------------------------------------

    def observe(self, statuses: dict, maintenance_on: bool, now: float) -> t.List[dict]:
        """Events for a successful read: the host back, the initial state of each service, then every change."""
        events = []
        verdict = host_verdict(statuses)
        if self.reachable is False:
            events.append(
                event(
                    HOST_REACHABLE,
                    self.name,
                    {
                        'down_for': round(now - self.down_since, 1) if self.down_since is not None else None,
                        'maintenance': maintenance_on,
                        'verdict': verdict,
                    },
                )
            )
        initial = self.reachable is None
        self.reachable, self.failures, self.down_since = True, 0, None
        for key in catalog.SERVICE_KEYS:
            status, previous = statuses.get(key), self.known.get(key)
            if status is None and previous is None:
                continue  # not installed, and not before either
            facts = _facts(status)
            if (
                not initial
                and previous is not None
                and (facts['state'], facts['process_id']) == (previous['state'], previous['process_id'])
            ):
                continue
            if status is None:
                del self.known[key]
            else:
                self.known[key] = facts
            before: t.Dict[str, t.Any]
            if initial:
                before = {'previous_state': None, 'previous_process_id': None}
            elif previous is None:
                before = {'previous_state': 'absent', 'previous_process_id': None}
            else:
                before = {'previous_state': previous['state'], 'previous_process_id': previous['process_id']}
            events.append(
                event(
                    SERVICE_STATE,
                    self.name,
                    dict(facts, service=key, initial=initial, maintenance=maintenance_on, verdict=verdict, **before),
                )
            )
        return events

    def fail(self, error: XProtectError, maintenance_on: bool, now: float, interval: float, max_backoff: float) -> t.List[dict]:
        """The event for a host that stopped answering (once, until it answers again); counts the failure."""
        self.failures += 1
        if self.reachable is False:
            return []
        self.reachable, self.down_since = False, now
        message = errors.scrub(str(error), self.target.settings.password, self.target.settings.username)
        return [
            event(
                HOST_UNREACHABLE,
                self.name,
                {
                    'kind': error.kind,
                    'message': message,
                    'retry_in': round(self.retry_in(interval, max_backoff), 1),
                    'maintenance': maintenance_on,
                    'verdict': None,
                },
            )
        ]

    def retry_in(self, interval: float, max_backoff: float) -> float:
        """Seconds until the next read: the interval, doubled for every failure in a row, at most max_backoff."""
        if not self.failures:
            return interval
        return min(max_backoff, interval * 2 ** min(self.failures - 1, 30))

    def recording_state(self) -> t.Optional[str]:
        """The Recording Server's state for the guard: None when it is not installed, 'disabled' when its start
        mode is Disabled (someone disabled it on purpose, and no start would work: it is never healed)."""
        facts = self.known.get(RECORDING_SERVER)
        if not facts:
            return None
        return 'disabled' if facts['start_mode'] == 'disabled' else facts['state']


def _facts(status: t.Optional[ServiceStatus]) -> dict:
    """What an event tells of a service; state 'absent' for one that is no longer installed."""
    if status is None:
        return {'name': None, 'state': 'absent', 'windows_state': None, 'exit_code': None, 'process_id': None, 'start_mode': None}
    return {
        'name': status.name,
        'state': status.state,
        'windows_state': status.windows_state,
        'exit_code': status.exit_code,
        'process_id': status.process_id,
        'start_mode': status.start_mode,
    }


def decision_event(host: HostWatch, decision: t.Any, maintenance_on: bool) -> dict:
    """The event of a guard decision (heal, deferred, giving_up) about the host's Recording Server."""
    facts = host.known.get(RECORDING_SERVER) or {}
    fields = {
        'service': RECORDING_SERVER,
        'name': facts.get('name'),
        'state': facts.get('state'),
        'exit_code': facts.get('exit_code'),
        'maintenance': maintenance_on,
        'verdict': None,
    }
    fields.update(decision.details)
    if decision.kind == GIVING_UP:
        fields['message'] = (
            'the Recording Server of %s stopped again after %d heal(s) within the last hour (limit %d): it is not '
            'started again until it is seen running or the host goes through maintenance'
            % (host.name, decision.details['attempts'], decision.details['max_per_hour'])
        )
    elif decision.kind == DEFERRED:
        fields['message'] = 'the Recording Server of %s waits to be started: %d host(s) are being healed, the limit is %d' % (
            host.name,
            decision.details['healing'],
            decision.details['max_concurrent'],
        )
    return event(decision.kind, host.name, fields)


class Pools:
    """The worker threads of the reads: concurrency for the hosts that answer, a quarter of it for those that do not."""

    def __init__(self, concurrency: int, hosts: int) -> None:
        self.answering = concurrent.futures.ThreadPoolExecutor(max_workers=min(concurrency, hosts), thread_name_prefix='xpgo-watch')
        self.away = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, min(concurrency // 4, hosts)), thread_name_prefix='xpgo-watch-away'
        )

    def for_host(self, host: HostWatch) -> concurrent.futures.Executor:
        return self.away if host.reachable is False else self.answering

    def shutdown(self) -> None:
        for pool in (self.answering, self.away):
            pool.shutdown(wait=False, cancel_futures=True)


class FleetWatch:
    """The whole watch: one asyncio task per host, reads in a bounded thread pool, one guard for the fleet."""

    def __init__(
        self,
        settings: WatchSettings,
        targets: t.List[Target],
        client_factory: t.Callable[[t.Any], t.Any] = WsmanClient,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.hosts = [HostWatch(target, settings.maintenance_dir, client_factory) for target in targets]
        self.guard = HealGuard(settings.max_concurrent_heals)
        self.clock = clock

    async def run(self, queue: t.Any) -> None:
        """Watch until cancelled, or for shutdown_after seconds when that is set (then return: the rulebook ends)."""
        settings = self.settings
        logger.info(
            'watching %d host(s) every %s s, %d at a time; heals: %s, at most %s at once; maintenance switches in %s',
            len(self.hosts),
            settings.interval,
            settings.concurrency,
            'on' if settings.heal else 'off',
            settings.max_concurrent_heals,
            settings.maintenance_dir,
        )
        # Two bounded pools: hosts that answer, and hosts that do not (they wait for their timeouts). A site going
        # dark then holds only the second pool, and the reads of the hosts that answer keep their interval.
        pools = Pools(settings.concurrency, len(self.hosts))
        # Spread the first reads over one interval, so that the reads of a large fleet do not come in bursts.
        spread = settings.interval / len(self.hosts)
        tasks = [
            asyncio.create_task(self._watch(host, queue, pools, index * spread), name='xpgo-watch-%s' % host.name)
            for index, host in enumerate(self.hosts)
        ]
        try:
            if settings.shutdown_after:
                done, dummy = await asyncio.wait(tasks, timeout=settings.shutdown_after, return_when=asyncio.FIRST_EXCEPTION)
            else:
                done, dummy = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a task ends early only by an exception: raise it
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Reads in progress finish within their own timeouts; nothing waits for them here.
            pools.shutdown()
        logger.info('watch ended after shutdown_after=%s s', settings.shutdown_after)

    async def _watch(self, host: HostWatch, queue: t.Any, pools: 'Pools', delay: float) -> None:
        loop = asyncio.get_running_loop()
        settings = self.settings
        await asyncio.sleep(delay)
        while True:
            started = self.clock()
            reading = await loop.run_in_executor(pools.for_host(host), host.read)
            for item in self.events(host, reading, self.clock()):
                await queue.put(item)
            wait = host.retry_in(settings.interval, settings.max_backoff)
            await asyncio.sleep(max(0.0, wait - (self.clock() - started)))

    def events(self, host: HostWatch, reading: Reading, now: float) -> t.List[dict]:
        """Every event one reading of a host gives, the guard's decision last."""
        settings = self.settings
        if reading.error is not None:
            events = host.fail(reading.error, reading.maintenance, now, settings.interval, settings.max_backoff)
            if host.failures == 1:
                logger.warning(
                    '%s stopped answering (%s); retrying with back-off up to %s s', host.name, reading.error.kind, settings.max_backoff
                )
            state = None
        else:
            if host.reachable is False:
                logger.info('%s answers again', host.name)
            events = host.observe(t.cast(dict, reading.statuses), reading.maintenance, now)
            state = host.recording_state()
        if settings.heal:
            decision = self.guard.consider(host.name, state, reading.maintenance, host.target.max_per_hour, host.target.heal_timeout, now)
            if decision is not None:
                level = logging.INFO if decision.kind == HEAL else logging.WARNING
                logger.log(level, '%s: %s of the Recording Server, %s', host.name, decision.kind, decision.details)
                events.append(decision_event(host, decision, reading.maintenance))
        return events
