# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One task reads every host of a play (xprotect.go.fleet_service_info), or finds what the service module would do on
each (xprotect.go.fleet_service_plan). Private to the collection.

Each host is read with its own connection settings (HostToRead), which the action plugin resolves
through that host's connection plugin as a task on that host does (host_settings_from_plugin), then
the environment and the defaults (_connection.resolve_connection): exactly what service_info
resolves for that host, so a host's credentials only ever go to that host's endpoint. A bounded
thread pool reads the hosts at once: the read is mostly waiting on the network and on Windows, and
one Ansible task per host costs far more than the read itself (docs/performance.md).

Each host's result is service_info's for that host (or the service module's in check mode), or, for a
host that could not be read, the failure as Ansible registers it (failed or unreachable, msg, and for
a read the verdict and reasons of _health.unreadable). Plain Python: no Ansible import, so unit tests drive it with dictionaries.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.xprotect.go.plugins.module_utils._connection_options import (
    INVENTORY_VARIABLE_NAMES,
    OPTIONS,
    HostSettings,
    host_settings_from_vars,
)
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._specs import FLEET_CONCURRENCY_MAX, SERVICE_NAMES_VARIABLE
from ansible_collections.xprotect.go.plugins.module_utils._tasks import run_service, run_service_info

# The variables that decide how a host is read besides its connection plugin's: its connection and its service names.
HOST_VARIABLE_NAMES = INVENTORY_VARIABLE_NAMES | {SERVICE_NAMES_VARIABLE}
# What is done to one host: (params, its settings, the environment) -> its result.
Job = t.Callable[[t.Dict[str, t.Any], HostSettings, t.Mapping[str, str]], dict]
# Used when neither the task nor Ansible's forks say how many hosts to read at once.
DEFAULT_CONCURRENCY = 50


class HostToRead(t.NamedTuple):
    """What reading one host needs: its connection settings and its xprotect_go_service_names."""

    settings: HostSettings
    service_names: t.Any = None


# name -> what reading it needs, or the XProtectError that says why that could not be resolved (a template that
# fails), which then fails that host alone.
FleetHosts = t.Mapping[str, t.Union[HostToRead, XProtectError]]


def concurrency(requested: t.Optional[int], forks: t.Optional[int]) -> int:
    """How many hosts are read at once: the task's concurrency, else Ansible's forks, else DEFAULT_CONCURRENCY."""
    value = requested if requested is not None else forks or DEFAULT_CONCURRENCY
    if not 1 <= value <= FLEET_CONCURRENCY_MAX:
        raise XProtectError('concurrency must be between 1 and %d, got %s' % (FLEET_CONCURRENCY_MAX, value))
    return value


def with_host_name(name: str, settings: HostSettings) -> HostSettings:
    """On a winrm or psrp host without ansible_host the connection plugins connect to the inventory name; so does
    this read. Other hosts give no settings (the environment decides, as for service_info on the local connection)."""
    if settings.connection is not None and 'host' not in settings:
        settings.set(OPTIONS['host'], name, 'the inventory host name')
    return settings


def host_from_vars(name: str, variables: t.Mapping[str, t.Any]) -> HostToRead:
    """A host read with the settings its own variables give (ansible_host, ansible_winrm_*...), no plugin asked."""
    return HostToRead(with_host_name(name, host_settings_from_vars(dict(variables))), variables.get(SERVICE_NAMES_VARIABLE))


def failed_result(error: XProtectError) -> dict:
    """A host that could not be read, in the shape Ansible registers service_info's failure."""
    key = 'unreachable' if error.unreachable else 'failed'
    return dict(error.result, changed=False, msg=str(error), **{key: True})


def service_info(params: t.Dict[str, t.Any], settings: HostSettings, environ: t.Mapping[str, str]) -> dict:
    """service_info's result for one host (changed false)."""
    return dict(run_service_info(params, settings, environ), changed=False)


def service_plan(params: t.Dict[str, t.Any], settings: HostSettings, environ: t.Mapping[str, str]) -> dict:
    """The service module's result for one host in check mode: what it would change, from one read (nothing sent)."""
    return run_service(params, settings, environ, check_mode=True)


def read_host(
    host: t.Union[HostToRead, XProtectError], params: t.Mapping[str, t.Any], environ: t.Mapping[str, str], job: Job = service_info
) -> dict:
    """job's result for one host, or its failure (failed_result)."""
    try:
        if isinstance(host, XProtectError):
            raise host
        return job(dict(params, service_names=host.service_names), host.settings, environ)
    except XProtectError as error:
        return failed_result(error)


def read_fleet(
    fleet: FleetHosts, params: t.Mapping[str, t.Any], environ: t.Mapping[str, str], workers: int, job: Job = service_info
) -> t.Dict[str, dict]:
    """{name: job's result} for every host of `fleet`, in its order, at most `workers` hosts read at once.

    The settings are resolved before (Ansible's templating is not meant for threads); the threads only read.
    """
    if not fleet:
        return {}
    names = list(fleet)
    with ThreadPoolExecutor(max_workers=min(workers, len(names)), thread_name_prefix='xpgo-fleet-read') as pool:
        results = pool.map(lambda name: read_host(fleet[name], params, environ, job), names)
        return dict(zip(names, results, strict=True))


def fleet_warnings(results: t.Mapping[str, t.Mapping[str, t.Any]]) -> t.List[str]:
    """Every host's warnings, each prefixed with its host: the one task shows what each host's task showed."""
    return ['%s: %s' % (name, warning) for name, result in results.items() for warning in result.get('warnings', [])]


def plan_fleet(fleet: FleetHosts, params: t.Mapping[str, t.Any], environ: t.Mapping[str, str], workers: int) -> dict:
    """What the service module would do on each host of `fleet` (service_plan), and which hosts it has work on.

    pending: the hosts it would change, and those it could not read or plan (the service task on them says why, as it
    would have). converged: the others, where the service task would do nothing; their warnings are the task's.
    """
    hosts = read_fleet(fleet, params, environ, workers, job=service_plan)
    pending: t.List[str] = []
    converged: t.List[str] = []
    for name, result in hosts.items():
        has_work = result.get('changed') or result.get('failed') or result.get('unreachable')
        (pending if has_work else converged).append(name)
    return dict(hosts=hosts, pending=pending, converged=converged, warnings=fleet_warnings({name: hosts[name] for name in converged}))
