"""Helpers of the tests under tests/unit/eda: plain functions, classes and constants (conftest.py holds only
fixtures and hooks; tests import these from here)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import yaml

from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_targets import load_targets, parse_arguments
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_watch import FleetWatch
from xprotect_go_simulator.control import ControlClient


RECORDING_SERVER = 'Milestone XProtect Recording Server'


# Quick services, so that a heal or a crash takes a moment.
QUICK = {'start_seconds': 0.2, 'stop_seconds': 0.1}


def quick_overrides(count, extra=None):
    return [dict({RECORDING_SERVER: dict(QUICK)}, **((extra or {}).get(index) or {})) for index in range(count)]


def write_inventory(fleet, path, **group_vars):
    """The fleet's inventory, with extra variables for its xprotect group."""
    inventory = fleet.inventory()
    inventory['all']['children']['xprotect']['vars'].update(group_vars)
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return str(path)


class Control:
    """The simulator's control endpoint, for out-of-band changes."""

    def __init__(self):
        self.client = ControlClient()

    def configure(self, host, service, **changes):
        return self.client.post('%s/services/%s' % (host.control_url, quote(service, safe='')), changes)

    def stop(self, host, service=RECORDING_SERVER, exit_code=1067):
        return self.configure(host, service, State='Stopped', ExitCode=exit_code)

    def state(self, host, service=RECORDING_SERVER):
        return self.client.get(host.control_url + '/services')[service]['State']

    def faults(self, host, **faults):
        if faults:
            return self.client.post(host.control_url + '/faults', faults)
        return self.client.delete(host.control_url + '/faults')

    def starts(self, host, service=RECORDING_SERVER):
        """How often the service went Start Pending (the simulator's history)."""
        return sum(
            1 for item in self.client.get(host.control_url + '/history') if item['service'] == service and item['state'] == 'Start Pending'
        )


def run_watch(args, duration, steps=(), environ=None, holder=None):
    """Watch for `duration` seconds with an asyncio.Queue; steps are (seconds, callable) done meanwhile.

    Returns (events with a 't' key: seconds since the start, the FleetWatch); holder['watch'] is the
    FleetWatch from the start on, for steps that look at it.
    """
    environ = {} if environ is None else environ
    settings = parse_arguments(dict(args, shutdown_after=duration), environ)
    watch = FleetWatch(settings, load_targets(settings, environ))
    if holder is not None:
        holder['watch'] = watch
    queue = asyncio.Queue()

    async def act(started):
        for at, step in steps:
            await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
            await asyncio.to_thread(step)

    async def main():
        started = time.monotonic()
        stamped = []

        async def drain():
            while True:
                item = await queue.get()
                item['t'] = time.monotonic() - started
                stamped.append(item)

        drainer = asyncio.create_task(drain())
        await asyncio.gather(watch.run(queue), act(started))
        await asyncio.sleep(0)
        drainer.cancel()
        return stamped

    return asyncio.run(main()), watch


def of_type(events, kind, host=None, **fields):
    return [
        item['xprotect_go']
        for item in events
        if item['xprotect_go']['type'] == kind
        and host in (None, item['xprotect_go']['host'])
        and all(item['xprotect_go'].get(key) == value for key, value in fields.items())
    ]
