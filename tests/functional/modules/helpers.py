"""Helpers of the tests under tests/functional/modules: plain functions, classes and constants (conftest.py holds only
fixtures and hooks; tests import these from here)."""

from __future__ import annotations


from tests.helpers import XPROTECT_NAMES
from xprotect_go_simulator.profiles import PROFILES


# Fast services so a test's restarts take about a second.
FAST = {'start_seconds': 0.3, 'stop_seconds': 0.2}
FAST_SERVICES = {name: dict(FAST) for name in XPROTECT_NAMES}


def fast_overrides(profiles, extra=None):
    """Fleet overrides_per_host making each host's XProtect services quick, plus {host index: {service: settings}}."""
    overrides = []
    for index, profile in enumerate(profiles):
        installed = {service['Name'] for service in PROFILES[profile].services}
        host = {name: dict(values) for name, values in FAST_SERVICES.items() if name in installed}
        for name, values in ((extra or {}).get(index) or {}).items():
            host.setdefault(name, {}).update(values)
        overrides.append(host)
    return overrides


def services_of(sim_control, host):
    """The true state of a simulated host's services, read out of band through the control endpoint."""
    return sim_control.get(host.control_url + '/services')


def states(sim_control, host, names=FAST_SERVICES):
    snapshot = services_of(sim_control, host)
    return {name: snapshot[name]['State'] for name in names if name in snapshot}
