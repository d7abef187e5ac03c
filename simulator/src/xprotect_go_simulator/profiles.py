# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The service sets a simulated XProtect Go host starts from (its "profile").

A profile is immutable data shared by every host built from it. Each service is a mapping in the
vocabulary of SimulatedHost.configure(): Win32_Service property names (DisplayName, State, ...)
plus behaviour keys (start_seconds, depends_on, ...). Keys left out take SERVICE_DEFAULTS.
Descriptions are our own short texts, not Windows' or Milestone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

# What configure(add=True) and the profiles fill in for keys a service does not give.
SERVICE_DEFAULTS = MappingProxyType(
    {
        'DisplayName': None,  # None: the service Name
        'Description': None,
        'PathName': None,
        'State': 'Running',
        'StartMode': 'Auto',
        'DelayedAutoStart': False,
        'StartName': 'LocalSystem',
        'AcceptStop': True,
        'AcceptPause': False,
        'ServiceType': 'Own Process',
        'ErrorControl': 'Normal',
        'DesktopInteract': False,
        'ExitCode': 0,
        'start_seconds': 0.0,
        'stop_seconds': 0.0,
        'fail_start_exit_code': None,
        'stuck': None,
        'crash_after_seconds': None,
        'recovery_restart_seconds': None,  # None: a crash is 7034; seconds: 7031, and the SCM restarts it after them
        'deny_users': (),
        'depends_on': (),
    }
)

# Windows' ExitCode of a service that has not run since boot (ERROR_SERVICE_NEVER_STARTED), as in the captures.
NEVER_STARTED = 1077

RECORDING_SERVER = 'Milestone XProtect Recording Server'
IMAGE_SERVER = 'Milestone Image Server'
IMAGE_IMPORT = 'Milestone Image Import Service'
LOG_CHECK = 'Milestone Log Check Service'
EVENT_SERVER = 'MilestoneEventServerService'
MOBILE_SERVER = 'Milestone Mobile Service'


def _service(**values):
    unknown = set(values) - set(SERVICE_DEFAULTS) - {'Name'}
    if unknown:
        raise ValueError('unknown service keys %s' % sorted(unknown))
    merged = dict(SERVICE_DEFAULTS, **values)
    merged['DisplayName'] = merged['DisplayName'] or merged['Name']
    merged['deny_users'] = tuple(merged['deny_users'])
    merged['depends_on'] = tuple(merged['depends_on'])
    return MappingProxyType(merged)


def _xprotect(name, display_name, path, description, start_seconds=1.0, stop_seconds=0.5):
    return _service(
        Name=name,
        DisplayName=display_name,
        PathName=path,
        Description=description,
        depends_on=('RpcSs',),
        start_seconds=start_seconds,
        stop_seconds=stop_seconds,
    )


_SVCHOST = 'C:\\Windows\\system32\\svchost.exe -k %s'

XPROTECT_SERVICES = (
    _xprotect(
        RECORDING_SERVER,
        RECORDING_SERVER,
        '"C:\\Program Files\\Milestone\\XProtect Recording Server\\RecordingServer.exe"',
        'Receives video from the cameras and records it to the camera databases.',
        start_seconds=1.5,
        stop_seconds=1.0,
    ),
    _xprotect(
        IMAGE_SERVER,
        IMAGE_SERVER,
        '"C:\\Program Files (x86)\\Milestone\\XProtect Go\\ImageServer.exe"',
        'Serves live and recorded video to Smart Client users and handles their log-ins.',
    ),
    _xprotect(
        IMAGE_IMPORT,
        IMAGE_IMPORT,
        '"C:\\Program Files (x86)\\Milestone\\XProtect Go\\ImageImportService.exe"',
        'Imports pre- and post-alarm images that cameras send by e-mail.',
    ),
    _xprotect(
        LOG_CHECK,
        LOG_CHECK,
        '"C:\\Program Files (x86)\\Milestone\\XProtect Go\\LogCheckService.exe"',
        'Checks the integrity of the system log files.',
    ),
    _xprotect(
        EVENT_SERVER,
        'Milestone Event Server',
        '"C:\\Program Files\\Milestone\\XProtect Event Server\\VideoOS.Event.Server.exe"',
        'Handles alarms, maps, events and status information.',
    ),
    _xprotect(
        MOBILE_SERVER,
        MOBILE_SERVER,
        '"C:\\Program Files\\Milestone\\XProtect Mobile Server\\VideoOS.MobileServer.Service.exe"',
        'Connects mobile devices and web browsers to the Recording Server.',
    ),
)

# Ordinary Windows services, so that enumerations look like a real Windows Server.
WINDOWS_SERVICES = (
    _service(
        Name='DcomLaunch',
        DisplayName='DCOM Server Process Launcher',
        PathName=_SVCHOST % 'DcomLaunch -p',
        Description='Launches COM and DCOM servers.',
        ServiceType='Share Process',
        AcceptStop=False,
    ),
    _service(
        Name='RpcEptMapper',
        DisplayName='RPC Endpoint Mapper',
        PathName=_SVCHOST % 'RPCSS -p',
        Description='Resolves RPC interface identifiers to transport endpoints.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\NetworkService',
        AcceptStop=False,
    ),
    _service(
        Name='RpcSs',
        DisplayName='Remote Procedure Call (RPC)',
        PathName=_SVCHOST % 'rpcss -p',
        Description='The service control manager for COM and DCOM servers.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\NetworkService',
        AcceptStop=False,
        depends_on=('RpcEptMapper', 'DcomLaunch'),
    ),
    _service(
        Name='Winmgmt',
        DisplayName='Windows Management Instrumentation',
        PathName=_SVCHOST % 'netsvcs -p',
        Description='Provides a common interface to management information about the system.',
        ServiceType='Share Process',
        StartName='localSystem',
        AcceptPause=True,
        ErrorControl='Ignore',
        depends_on=('RpcSs',),
    ),
    _service(
        Name='WinRM',
        DisplayName='Windows Remote Management (WS-Management)',
        PathName=_SVCHOST % 'NetworkService -p',
        Description='Implements the WS-Management protocol for remote management.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\NetworkService',
        depends_on=('RpcSs',),
    ),
    _service(
        Name='EventLog',
        DisplayName='Windows Event Log',
        PathName=_SVCHOST % 'LocalServiceNetworkRestricted -p',
        Description='Manages events and event logs.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\LocalService',
    ),
    _service(
        Name='Dnscache',
        DisplayName='DNS Client',
        PathName=_SVCHOST % 'NetworkService -p',
        Description='Caches Domain Name System names.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\NetworkService',
        AcceptStop=False,
    ),
    _service(
        Name='SamSS',
        DisplayName='Security Accounts Manager',
        PathName='C:\\Windows\\system32\\lsass.exe',
        Description='Signals other services that the security accounts manager is ready.',
        ServiceType='Share Process',
        AcceptStop=False,
        depends_on=('RpcSs',),
    ),
    _service(
        Name='LanmanServer',
        DisplayName='Server',
        PathName=_SVCHOST % 'netsvcs -p',
        Description='Shares files, printers and named pipes over the network.',
        ServiceType='Share Process',
        AcceptPause=True,
        depends_on=('SamSS',),
    ),
    _service(
        Name='Spooler',
        DisplayName='Print Spooler',
        PathName='C:\\Windows\\System32\\spoolsv.exe',
        Description='Queues print jobs and talks to printers.',
        depends_on=('RpcSs',),
    ),
    _service(
        Name='W32Time',
        DisplayName='Windows Time',
        PathName=_SVCHOST % 'LocalService',
        Description='Keeps the clock synchronised with time servers.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\LocalService',
        StartMode='Manual',
    ),
    _service(
        Name='MSSQL$SQLEXPRESS',
        DisplayName='SQL Server (SQLEXPRESS)',
        PathName='"C:\\Program Files\\Microsoft SQL Server\\MSSQL15.SQLEXPRESS\\MSSQL\\Binn\\sqlservr.exe" -sSQLEXPRESS',
        Description='Stores the XProtect configuration database.',
        StartName='NT Service\\MSSQL$SQLEXPRESS',
        AcceptPause=True,
    ),
    _service(
        Name='RemoteRegistry',
        DisplayName='Remote Registry',
        PathName=_SVCHOST % 'localService -p',
        Description='Lets remote users change registry settings.',
        ServiceType='Share Process',
        StartName='NT AUTHORITY\\LocalService',
        StartMode='Manual',
        State='Stopped',
        ExitCode=NEVER_STARTED,
        depends_on=('RpcSs',),
    ),
    _service(
        Name='wuauserv',
        DisplayName='Windows Update',
        PathName=_SVCHOST % 'netsvcs -p',
        Description='Detects, downloads and installs updates.',
        ServiceType='Share Process',
        StartMode='Manual',
        State='Stopped',
        ExitCode=NEVER_STARTED,
        depends_on=('RpcSs',),
    ),
    _service(
        Name='sppsvc',
        DisplayName='Software Protection',
        PathName='C:\\Windows\\system32\\sppsvc.exe',
        Description='Manages software licensing.',
        StartName='NT AUTHORITY\\NetworkService',
        DelayedAutoStart=True,
        State='Stopped',
        depends_on=('RpcSs',),
    ),
)


# The accounts every simulated machine knows besides the built-in and virtual ones (accounts.py): users of the
# machine itself (.\\name) and of its domain XPGO (as the domain controller would answer), a group managed
# service account (no password of its own), and a user without the right to log on as a service. Test data:
# the passwords are the simulator's, like its built-in WinRM password.
ACCOUNTS = (
    MappingProxyType({'name': '.\\xpgo-svc', 'password': 'Svc-Pass-2024!'}),
    MappingProxyType({'name': 'XPGO\\svc-imageserver', 'password': 'Image-Pass-2024!', 'upn': 'svc-imageserver@xpgo.example'}),
    MappingProxyType({'name': 'XPGO\\gmsa-xprotect$', 'password': None}),
    MappingProxyType({'name': '.\\xpgo-nologon', 'password': 'NoLogon-Pass-2024!', 'logon_right': False}),
)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    services: tuple  # read-only service mappings
    accounts: tuple = ACCOUNTS


def _with(services, name, **changes):
    return tuple(_service(**dict(service, **changes)) if service['Name'] == name else service for service in services)


_STANDARD = XPROTECT_SERVICES + WINDOWS_SERVICES

PROFILES = MappingProxyType(
    {
        'standard': Profile('standard', 'Standard installation: all six XProtect Go services, running.', _STANDARD),
        'custom': Profile(
            'custom',
            'Custom installation without the Mobile Server and the Event Server.',
            tuple(service for service in _STANDARD if service['Name'] not in (MOBILE_SERVER, EVENT_SERVER)),
        ),
        'image_server_domain_account': Profile(
            'image_server_domain_account',
            'Standard installation whose Image Server logs on as a domain account.',
            _with(_STANDARD, IMAGE_SERVER, StartName='XPGO\\svc-imageserver'),
        ),
    }
)
