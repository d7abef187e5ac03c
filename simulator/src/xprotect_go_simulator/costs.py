# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What Windows takes to answer each kind of request: the simulator's cost models.

The simulator itself answers at once. Windows does not: its WMI provider walks every service for a WQL
query, whatever the WHERE clause names, and a Get or a method call goes through WMI too. A cost model
says how many seconds each kind of operation takes; the listener waits them out before the host
answers (outside every lock, so a host keeps serving other requests meanwhile, as WinRM does).

  instant   nothing is charged (the default: fast tests)
  windows   figures taken from published measurements (docs/performance.md, "The cost model")

The network is not part of a model: Fleet(delay=...) (bench/run --delay-ms) adds it to every HTTP request.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import soap

# The kinds of operation a model prices.
QUERY = 'query'  # WQL over Win32_Service (Enumerate with or without a filter, ASSOCIATORS OF)
EVENT_QUERY = 'event_query'  # WQL over Win32_NTLogEvent: no service is walked
GET = 'get'  # Get of one Win32_Service instance by its key
METHOD = 'method'  # Invoke: StartService, StopService, ChangeStartMode, Change, StdRegProv DWORDs
PULL = 'pull'  # Pull or Release of an enumeration WMI has already run
HANDSHAKE = 'handshake'  # an NTLM handshake completing (once per connection)
KINDS = (QUERY, EVENT_QUERY, GET, METHOD, PULL, HANDSHAKE)

WMI_ACTION_PREFIX = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/'

# Published measurements the windows model is derived from (docs/performance.md cites each):
# prometheus-community/windows_exporter pull request 1497, one machine, the service collector three ways.
PR1497_WMI_QUERY = 0.4285152  # SELECT * FROM Win32_Service through WMI
PR1497_API = 0.3175442  # the SCM API asked about each service in turn (open, config, status)
PR1497_ENUM = 0.0046183  # one EnumServicesStatusEx call for all services
# Services of a real Windows Server 2012: its captured enumeration (tests/fixtures/winrm-captures/*-ws2012-*, txwinrm's data).
CAPTURED_SERVICES = 131
# PowerShell/PowerShell issue 9871: 100 x "Get-Service sshd" took 100 ms in Windows PowerShell 5.1.
SCM_CALL = 0.100 / 100


@dataclass(frozen=True)
class CostModel:
    """Seconds per operation kind, plus seconds per service the Win32_Service provider walks for a query.

    A query walks every service of the machine, at least machine_services of them: a real Windows machine has
    more services than a simulated host lists (21), and the provider walks them all, whatever the query selects.
    """

    name: str
    query: float = 0.0
    per_service: float = 0.0
    machine_services: int = 0
    event_query: float = 0.0
    get: float = 0.0
    method: float = 0.0
    pull: float = 0.0
    handshake: float = 0.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == 'name':
                if not isinstance(value, str) or not value:
                    raise ValueError('a cost model needs a name')
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float('inf'):
                raise ValueError('cost model %s: %s must be a number of 0 or more, not %r' % (self.name, field.name, value))

    def walked(self, listed_services: int) -> int:
        """How many services the provider walks on a host that lists listed_services."""
        return max(int(listed_services), int(self.machine_services))

    def seconds(self, kind: str, listed_services: int = 0) -> float:
        """Seconds Windows takes for one operation of this kind (listed_services: what the host lists, for QUERY)."""
        if kind == QUERY:
            return self.query + self.per_service * self.walked(listed_services)
        if kind not in KINDS:
            raise ValueError('unknown operation kind %r; known: %s' % (kind, ', '.join(KINDS)))
        return getattr(self, kind)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


INSTANT = CostModel('instant')

# query: PR 1497's WMI query less the per-service work its API figure measures (asking the SCM about every
# service, less the one enumeration call): 0.4285 - (0.3175 - 0.0046) = 0.1156 s. That split does not depend
# on how many services that machine had. per_service: that per-service work over the 131 services of the
# captured Windows Server, so a whole-machine query costs PR 1497's 0.4285 s. get: the fixed WMI part and one
# service. method: the same and one SCM call. event_query, pull, handshake: nothing published (estimates).
_WALK = PR1497_API - PR1497_ENUM
WINDOWS = CostModel(
    'windows',
    query=PR1497_WMI_QUERY - _WALK,
    per_service=_WALK / CAPTURED_SERVICES,
    machine_services=CAPTURED_SERVICES,
    event_query=PR1497_WMI_QUERY - _WALK,
    get=PR1497_WMI_QUERY - _WALK + _WALK / CAPTURED_SERVICES,
    method=PR1497_WMI_QUERY - _WALK + _WALK / CAPTURED_SERVICES + SCM_CALL,
    pull=0.0,
    handshake=0.010,
)

MODELS = {INSTANT.name: INSTANT, WINDOWS.name: WINDOWS}


def resolve(model: CostModel | str | None) -> CostModel:
    """A CostModel from a model, its name, or None (instant)."""
    if model is None:
        return INSTANT
    if isinstance(model, CostModel):
        return model
    if isinstance(model, str) and model in MODELS:
        return MODELS[model]
    raise ValueError('cost model must be one of %s (or a CostModel), not %r' % (', '.join(MODELS), model))


def classify(action: str | None, text: str) -> str | None:
    """The kind of operation a SOAP request is (action, and its text for WQL), or None for what no model prices."""
    if action == soap.ACTION_ENUMERATE:
        return EVENT_QUERY if 'win32_ntlogevent' in text.lower() else QUERY
    if action in (soap.ACTION_PULL, soap.ACTION_RELEASE):
        return PULL
    if action == soap.ACTION_GET:
        return GET
    if action and action.lower().startswith(WMI_ACTION_PREFIX):
        return METHOD
    return None


def describe(model: CostModel) -> str:
    """One line: what each operation costs under the model."""
    if model.name == INSTANT.name and not any(model.seconds(kind) for kind in KINDS):
        return 'instant (the simulator answers at once; only the network delay is charged)'
    return (
        '%s: WQL query %.4f s + %.5f s per service walked (at least %d), event log query %.4f s, Get %.4f s, '
        'method %.4f s, Pull/Release %.4f s, NTLM handshake %.4f s'
        % (
            model.name,
            model.query,
            model.per_service,
            model.machine_services,
            model.event_query,
            model.get,
            model.method,
            model.pull,
            model.handshake,
        )
    )
