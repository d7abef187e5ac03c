# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The base of the fleet action plugins (xprotect.go.fleet_service_info, xprotect.go.fleet_service_plan): one task on
the controller does a module's job for every host of the play. Private to the collection.

The task runs once (BYPASS_HOST_LOOP, like run_once). Each host's variables are read through
hostvars, which templates them in that host's own context (its vaulted and templated values, not
the first host's). A winrm or psrp host's settings then come from its own connection plugin, given
that host's variables as Ansible's task executor gives them (ConnectionPlugins): so ansible.cfg, the
ANSIBLE_* environment, the play's remote_user and the plugin's defaults count as they do for a task
on that host (not --ask-pass's password, which this task cannot tell from the first host's own).
plugin_utils/_fleet_read does the rest; each subclass says which job and what it returns (fleet_result).
"""

from __future__ import annotations

import os
import typing as t

from ansible import constants as C
from ansible import context
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import connection_loader

from ansible_collections.xprotect.go.plugins.module_utils import _errors as errors
from ansible_collections.xprotect.go.plugins.module_utils._connection_options import WINDOWS_CONNECTIONS, host_settings_from_plugin
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.plugin_utils._action import validated_params
from ansible_collections.xprotect.go.plugins.module_utils._specs import SERVICE_NAMES_VARIABLE
from ansible_collections.xprotect.go.plugins.plugin_utils._fleet_read import (
    HOST_VARIABLE_NAMES,
    FleetHosts,
    HostToRead,
    concurrency,
    host_from_vars,
    with_host_name,
)


class FleetActionBase(ActionBase):
    """Subclasses set spec() (the module's argument spec, with _specs.FLEET_READ_SPEC) and fleet_result()."""

    BYPASS_HOST_LOOP = True
    _supports_check_mode = True
    _supports_async = False

    @staticmethod
    def spec() -> dict:
        raise NotImplementedError

    def fleet_result(self, fleet: FleetHosts, params: t.Dict[str, t.Any], workers: int) -> dict:
        """The task's result for `fleet` (the hosts by name, in order), given the task's other parameters."""
        raise NotImplementedError

    def run(self, tmp: t.Any = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> dict:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        params = validated_params(self, self.spec())
        hostvars = task_vars.get('hostvars', {})
        names = list(params.pop('hosts') or task_vars.get('ansible_play_batch') or [])
        unknown = [name for name in names if name not in hostvars]
        if unknown:
            return dict(result, failed=True, msg='hosts not in the inventory: %s' % ', '.join(unknown))
        try:
            workers = concurrency(params.pop('concurrency'), context.CLIARGS.get('forks'))
        except XProtectError as error:
            return dict(result, failed=True, msg=str(error))

        plugins = ConnectionPlugins(self._task, self._play_context)
        fleet = {name: _host_to_read(hostvars[name], name, plugins) for name in names}
        try:
            outcome = self.fleet_result(fleet, params, workers)
        except XProtectError as error:
            return dict(result, failed=True, msg=str(error))
        return dict(result, addresses={name: _address(name, hostvars[name]) for name in names}, **outcome)


class ConnectionPlugins:
    """Hosts' settings as their own winrm or psrp connection plugin resolves them, given what Ansible's task executor
    gives a task on each host: the variables the plugin declares, its ansible_<plugin>_* extras and the task's keywords.

    One instance of each plugin serves all its hosts (a new one per host cost 4 ms, 1,000 hosts 4 s): set_options
    replaces every option, and each host's settings are copied out before the next host's are set.
    """

    def __init__(self, task: t.Any, play_context: t.Any) -> None:
        self._play_context = play_context
        self._plugins: t.Dict[str, t.Tuple[t.Any, t.List[str]]] = {}
        # The task's keywords (remote_user, port: the play's or ansible.cfg's), as the executor gives them. Not the play
        # context's password: this task's play context is the first host's, holding its ansible_password, which must
        # never reach another host (a plugin takes it as its `password` alias).
        self._task_keys = task.dump_attrs()
        self._task_keys['timeout'] = play_context.timeout
        self._task_keys.pop('retries', None)
        self._task_keys.pop('password', None)

    def settings(self, connection: str, variables: t.Any, name: str) -> t.Any:
        """Host `name`'s settings from its `connection` plugin and its variables (templated on access)."""
        if connection not in self._plugins:
            plugin = connection_loader.get(connection, self._play_context, os.devnull)
            self._plugins[connection] = (plugin, C.config.get_plugin_vars('connection', plugin._load_name))
        plugin, plugin_vars = self._plugins[connection]
        declared = {key: variables[key] for key in plugin_vars if key in variables}
        # Ansible's executor gives a host without ansible_host its inventory name.
        var_options = dict(declared, ansible_host=declared.get('ansible_host', name), _extras={})
        if getattr(plugin, 'allow_extras', False):
            prefix = 'ansible_%s_' % plugin.extras_prefix
            var_options['_extras'] = {key: variables[key] for key in variables if key.startswith(prefix) and key not in declared}
        plugin.set_options(task_keys=self._task_keys, var_options=var_options)
        return host_settings_from_plugin(plugin.get_option, connection, dict(declared, **var_options['_extras']))


def _host_to_read(variables: t.Any, name: str, plugins: ConnectionPlugins) -> t.Union[HostToRead, XProtectError]:
    """What reading host `name` needs, from its variables (hostvars templates them in its context); the error that
    fails this host alone when one cannot be templated (Ansible's message names the template, never a value)."""
    try:
        connection = str(variables.get('ansible_connection')).rsplit('.', 1)[-1]
        if connection not in WINDOWS_CONNECTIONS:
            return host_from_vars(name, {key: variables[key] for key in HOST_VARIABLE_NAMES if key in variables})
        return HostToRead(with_host_name(name, plugins.settings(connection, variables, name)), variables.get(SERVICE_NAMES_VARIABLE))
    except AnsibleError as error:
        return XProtectError('the connection variables of %s could not be resolved: %s' % (name, error), kind=errors.INVALID)


def _address(name: str, variables: t.Any) -> str:
    """Where the report says the host is: its ansible_host, else its inventory name."""
    try:
        address = variables.get('ansible_host')
    except AnsibleError:
        address = None
    return name if address is None else str(address)
