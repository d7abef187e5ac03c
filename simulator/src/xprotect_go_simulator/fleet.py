# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fleet of simulated XProtect Go hosts on 127.0.0.x, with a control endpoint and an inventory."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import typing as t

import yaml

from . import costs
from .control import ControlClient, ControlServer
from .host import SimulatedHost
from .acceptor import Acceptor
from .listener import DEFAULT_CODE_PAGE, WsmanListener, require_loopback
from .tls import TlsMaterial

DEFAULT_USERNAME = 'xpgo-admin'
DEFAULT_PASSWORD = 'Sim-Pass-123!'
DEFAULT_SCHEMES = {'basic': 'https', 'certificate': 'https', 'ntlm': 'http'}
HOSTS_PER_BLOCK = 249  # 127.0.N.2 .. 127.0.N.250, then the next N


def host_address(index: int) -> str:
    """Loopback address of the index-th host: 127.0.0.2, 127.0.0.3, ... 127.0.0.250, 127.0.1.2, ..."""
    block, offset = divmod(index, HOSTS_PER_BLOCK)
    if block > 255:
        raise ValueError('too many hosts for 127.0.0.0/16')
    return '127.0.%d.%d' % (block, offset + 2)


def parse_profile_mix(mix: t.Mapping[str, t.Any] | str) -> list[tuple[str, int]]:
    """{'standard': 3, 'custom': 1} or 'standard=3,custom=1' -> ordered list of (profile, count)."""
    if isinstance(mix, str):
        pairs: list[tuple[str, str]] = []
        for item in filter(None, (part.strip() for part in mix.split(','))):
            name, _sep, count = item.partition('=')
            pairs.append((name.strip(), count.strip() or '1'))
        mix = dict(pairs)
    result: list[tuple[str, int]] = []
    for name, count in mix.items():
        try:
            number = int(count)
        except (TypeError, ValueError):
            raise ValueError('profile mix count for %r must be an integer, not %r' % (name, count)) from None
        if number < 0:
            raise ValueError('profile mix count for %r must not be negative' % name)
        if number:
            result.append((name, number))
    if not result:
        raise ValueError('the profile mix names no host')
    return result


def profile_sequence(count: int, profile_mix: t.Mapping[str, t.Any] | str | None = None, profile: str = 'standard') -> list[str]:
    """Profiles of `count` hosts: the mix in order (3 standard, 1 custom, 3 standard...)."""
    if not profile_mix:
        return [profile] * count
    cycle = itertools.cycle([name for name, number in parse_profile_mix(profile_mix) for _copy in range(number)])
    return list(itertools.islice(cycle, count))


class RunningHost:
    """One served host: its listener (address, port, faults, stats) and its SimulatedHost state."""

    def __init__(
        self, name: str, profile: str, state: t.Any, listener: WsmanListener, control_url: str, fleet: Fleet | None = None
    ) -> None:
        self.fleet = fleet
        self.name = name
        self.profile = profile
        self.state = state
        self.listener = listener
        self.control_url = control_url

    address = property(lambda self: self.listener.address)
    port = property(lambda self: self.listener.port)
    scheme = property(lambda self: self.listener.scheme)
    endpoint = property(lambda self: self.listener.endpoint)
    faults = property(lambda self: self.listener.faults)
    stats = property(lambda self: self.listener.stats)

    def reset(self) -> None:
        """Back to the profile's state with no faults and zeroed counters."""
        self.state.reset()
        self.listener.reset()

    def as_dict(self) -> dict[str, t.Any]:
        return {
            'name': self.name,
            'address': self.address,
            'port': self.port,
            'scheme': self.scheme,
            'endpoint': self.endpoint,
            'profile': self.profile,
        }

    def __repr__(self) -> str:
        return 'RunningHost(%s, %s, %s)' % (self.name, self.endpoint, self.profile)


class Fleet:
    """Simulated hosts served on loopback; a context manager (starts on enter, stops on exit).

    addresses/ports/names override the defaults per host (the CLI's `serve` uses them);
    overrides_per_host is {host name: overrides} or a list by position; extra_users {user: password}
    are accepted by every host besides username. control_token is made at start unless given;
    control_client() is a ControlClient that sends it. code_page is the hosts' ANSI code page, which
    Basic credentials are decoded in (default cp1252, Windows-1252). cost_model is what Windows takes
    for each operation, waited out before every answer: 'instant' (default), 'windows' or a
    costs.CostModel (see costs.py).
    """

    def __init__(
        self,
        count: int = 1,
        profile_mix: t.Mapping[str, t.Any] | str | None = None,
        profile: str = 'standard',
        auth: str = 'basic',
        scheme: str | None = None,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        delay: float = 0.0,
        overrides_per_host: dict[str, t.Any] | list[t.Any] | None = None,
        extra_users: t.Mapping[str, str] | None = None,
        addresses: t.Iterable[str] | None = None,
        ports: t.Iterable[int] | None = None,
        names: t.Iterable[str] | None = None,
        host_factory: t.Callable[..., t.Any] = SimulatedHost,
        control_token: str | None = None,
        code_page: str = DEFAULT_CODE_PAGE,
        cost_model: costs.CostModel | str | None = None,
    ) -> None:
        if count < 1:
            raise ValueError('a fleet needs at least one host')
        if auth not in DEFAULT_SCHEMES:
            raise ValueError('auth must be one of %s, not %r' % (', '.join(DEFAULT_SCHEMES), auth))
        self.count = count
        self.auth = auth
        self.scheme = scheme or DEFAULT_SCHEMES[auth]
        self.username = username
        self.password = password
        self.delay = float(delay)
        self.code_page = code_page
        self.cost_model = costs.resolve(cost_model)
        self.users = {username: password, **(extra_users or {})}
        self.profiles = profile_sequence(count, profile_mix, profile)
        self.names = list(names) if names else ['xpgo-%03d' % (index + 1) for index in range(count)]
        self.addresses = (
            [require_loopback(address) for address in addresses] if addresses else [host_address(index) for index in range(count)]
        )
        self.ports = list(ports) if ports else [0] * count
        if not len(self.names) == len(self.addresses) == len(self.ports) == count:
            raise ValueError('names, addresses and ports must each have one entry per host')
        self._overrides: dict[str, t.Any] | list[t.Any] = overrides_per_host or {}
        self._host_factory = host_factory
        self.hosts: list[RunningHost] = []
        self.tls: TlsMaterial | None = None
        self.ca_path: str | None = None
        self.client_cert_path: str | None = None
        self.client_key_path: str | None = None
        self.control_url: str | None = None
        self.control_token = control_token
        self.directory: str | None = None
        self._acceptor: Acceptor | None = None
        self._control: ControlServer | None = None

    def _host_overrides(self, index, name):
        if isinstance(self._overrides, dict):
            return self._overrides.get(name)
        return self._overrides[index] if index < len(self._overrides) else None

    def start(self) -> Fleet:
        if self.directory is not None:
            return self
        self.directory = tempfile.mkdtemp(prefix='xpgo-sim-')
        try:
            if self.scheme == 'https':
                self.tls = TlsMaterial(self.directory, self.addresses, self.names)
                self.ca_path = self.tls.ca_path
                if self.auth == 'certificate':
                    self.client_cert_path, self.client_key_path = self.tls.client_certificate(self.username)
            self._acceptor = Acceptor()
            self._control = ControlServer(self, token=self.control_token)
            self.control_url = self._control.url
            self.control_token = self._control.token
            for index, (name, profile, address, port) in enumerate(
                zip(self.names, self.profiles, self.addresses, self.ports, strict=False)
            ):
                state = self._host_factory(name, profile=profile, overrides=self._host_overrides(index, name))
                listener = WsmanListener(
                    state,
                    address=address,
                    port=port,
                    scheme=self.scheme,
                    auth=self.auth,
                    users=self.users,
                    tls=self.tls,
                    delay=self.delay,
                    acceptor=self._acceptor,
                    name=name,
                    code_page=self.code_page,
                    cost_model=self.cost_model,
                )
                self.hosts.append(RunningHost(name, profile, state, listener, '%s/hosts/%s' % (self.control_url, name), self))
                listener.start()
            self._control.start()
        except BaseException:
            self.stop()
            raise
        return self

    def host(self, name: str) -> RunningHost:
        for running in self.hosts:
            if running.name.lower() == name.lower():
                return running
        raise KeyError(name)

    def control_client(self, timeout: float = 10.0) -> ControlClient:
        """A ControlClient for this fleet's control endpoint (paths relative to control_url), with its token."""
        return ControlClient(t.cast(str, self.control_url), timeout=timeout, token=self.control_token)

    def client_certificate(self, username: str) -> tuple[str, str]:
        """(cert_pem, key_pem) paths for certificate authentication as username (https fleets)."""
        if self.tls is None:
            raise ValueError('client certificates exist only for https fleets')
        return self.tls.client_certificate(username)

    def stop(self) -> None:
        if self._control is not None:
            self._control.stop()
            self._control = None
        for running in self.hosts:
            running.listener.stop()
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def inventory(self, group: str = 'xprotect') -> dict[str, t.Any]:
        """The inventory as a dict (what write_inventory writes as YAML)."""
        group_vars = {
            'ansible_connection': 'winrm',
            'ansible_user': self.username,
            'ansible_winrm_transport': self.auth,
            'ansible_winrm_scheme': self.scheme,
            'ansible_winrm_path': '/wsman',
            'ansible_winrm_message_encryption': 'auto',
            # With each host's xprotect_go_simulator_control URL: what a play needs to drive the simulator.
            'xprotect_go_simulator_control_token': self.control_token,
        }
        if self.auth != 'certificate':
            group_vars['ansible_password'] = self.password
        if self.scheme == 'https':
            group_vars['ansible_winrm_server_cert_validation'] = 'validate'
            group_vars['ansible_winrm_ca_trust_path'] = self.ca_path
        if self.auth == 'certificate':
            group_vars['ansible_winrm_cert_pem'] = self.client_cert_path
            group_vars['ansible_winrm_cert_key_pem'] = self.client_key_path
        hosts = {
            running.name: {
                'ansible_host': running.address,
                'ansible_port': running.port,
                'xprotect_go_simulator_control': running.control_url,
            }
            for running in self.hosts
        }
        return {'all': {'children': {group: {'vars': group_vars, 'hosts': hosts}}}}

    def write_inventory(self, path: str, group: str = 'xprotect') -> str:
        """Write a YAML inventory for `ansible-playbook -i` (mode 0600: it holds the password and the control token)."""
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write('# Simulated XProtect Go hosts (xprotect-go-simulator); valid while the fleet runs.\n')
            yaml.safe_dump(self.inventory(group), stream, default_flow_style=False, sort_keys=False)
        return path

    def state_dict(self) -> dict[str, t.Any]:
        """What `--state-file` writes: control URL and token, CA path and the hosts (no password)."""
        return {
            'control_url': self.control_url,
            'control_token': self.control_token,
            'ca_path': self.ca_path,
            'auth': self.auth,
            'scheme': self.scheme,
            'username': self.username,
            'client_cert_path': self.client_cert_path,
            'client_key_path': self.client_key_path,
            'cost_model': self.cost_model.name,
            'hosts': [running.as_dict() for running in self.hosts],
        }
