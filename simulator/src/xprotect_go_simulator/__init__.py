# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulated XProtect Go hosts that speak WS-Management like Windows' WinRM service (see DESIGN.md)."""

from .control import ControlClient, ControlError, ControlServer
from .faults import FaultSettings
from .fleet import Fleet, RunningHost, host_address, profile_sequence
from .host import SimulatedHost
from .listener import ListenerStats, WsmanListener
from .profiles import PROFILES
from .tls import TlsMaterial

__all__ = [
    'PROFILES',
    'ControlClient',
    'ControlError',
    'ControlServer',
    'FaultSettings',
    'Fleet',
    'ListenerStats',
    'RunningHost',
    'SimulatedHost',
    'TlsMaterial',
    'WsmanListener',
    'host_address',
    'profile_sequence',
]
