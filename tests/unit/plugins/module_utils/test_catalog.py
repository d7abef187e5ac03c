# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.xprotect.go.plugins.module_utils import _catalog as catalog


def record(name, display=None, path=None):
    return {'Name': name, 'DisplayName': display or name, 'PathName': path}


VMS = [
    record(
        'Milestone XProtect Recording Server',
        path='"C:\\Program Files\\Milestone\\XProtect Recording Server\\VideoOS.Recorder.Service.exe"',
    ),
    record('MilestoneEventServerService', 'Milestone XProtect Event Server', 'C:\\Program Files\\Milestone\\VideoOS.Event.Server.exe'),
    record('Milestone XProtect Mobile Server'),
    record('Milestone XProtect Management Server'),
    record('Spooler', 'Print Spooler', 'C:\\Windows\\System32\\spoolsv.exe'),
]


def test_six_services_with_two_optional():
    assert catalog.SERVICE_KEYS == ('recording_server', 'image_server', 'image_import', 'log_check', 'event_server', 'mobile_server')
    assert catalog.OPTIONAL_KEYS == ('event_server', 'mobile_server')
    assert all(catalog.SERVICES[key]['description'] for key in catalog.SERVICE_KEYS)


def test_recording_server_starts_first():
    stages = {key: catalog.SERVICES[key]['stage'] for key in catalog.SERVICE_KEYS}
    assert stages['recording_server'] < min(stage for key, stage in stages.items() if key != 'recording_server')
    assert catalog.UNCATALOGUED_STAGE < stages['recording_server']


def test_matches_vms_names():
    matched = catalog.match_services(VMS)
    assert matched['recording_server']['Name'] == 'Milestone XProtect Recording Server'
    assert matched['event_server']['Name'] == 'MilestoneEventServerService'
    assert matched['mobile_server']['Name'] == 'Milestone XProtect Mobile Server'
    assert 'image_server' not in matched


def test_name_beats_display_name_of_another_key():
    # A service named like the Recording Server must not be taken by a display-name match of another key.
    records = [record('Milestone Image Server', 'Milestone Recording Server'), record('Milestone Recording Server', 'Something')]
    matched = catalog.match_services(records)
    assert matched['recording_server']['Name'] == 'Milestone Recording Server'
    assert matched['image_server']['Name'] == 'Milestone Image Server'


def test_display_name_then_executable():
    records = [
        record('RecSvc', 'Milestone XProtect Recording Server'),
        record('ImgSvc', 'Pictures', '"D:\\XPGO\\ImageServer.exe" -service'),
    ]
    matched = catalog.match_services(records)
    assert matched['recording_server']['Name'] == 'RecSvc'
    assert matched['image_server']['Name'] == 'ImgSvc'


def test_event_server_prefix_match():
    matched = catalog.match_services([record('MilestoneEventServer')])
    assert matched['event_server']['Name'] == 'MilestoneEventServer'


def test_override_is_authoritative():
    records = [record('Milestone XProtect Recording Server'), record('VideoOSRecordingServer', 'Other')]
    assert (
        catalog.match_services(records, {'recording_server': 'videoosrecordingserver'})['recording_server']['Name']
        == 'VideoOSRecordingServer'
    )
    # An override naming nothing installed leaves the key unmatched instead of falling back.
    assert 'recording_server' not in catalog.match_services(records, {'recording_server': 'Nope'})


@pytest.mark.parametrize(
    'path, expected',
    [
        ('"C:\\Program Files\\Milestone\\RecordingServer.exe" -x', 'RecordingServer.exe'),
        ('C:\\Milestone\\ImageServer.exe /service', 'ImageServer.exe'),
        ('C:\\Windows\\system32\\svchost.exe -k netsvcs', 'svchost.exe'),
        (None, ''),
    ],
)
def test_executable_of(path, expected):
    assert catalog.executable_of(path) == expected


def test_install_type():
    assert catalog.install_type(catalog.SERVICE_KEYS) == 'standard'
    assert catalog.install_type(catalog.CORE_KEYS) == 'custom'
    assert catalog.install_type(catalog.CORE_KEYS + ('event_server',)) == 'custom'
    assert catalog.install_type(('recording_server',)) == 'incomplete'
    assert catalog.install_type(()) == 'none'


def test_milestone_detection():
    assert catalog.is_milestone_service(record('Milestone XProtect Management Server'))
    assert catalog.is_milestone_service(record('X', 'Y', 'C:\\Program Files\\Milestone\\x.exe'))
    assert not catalog.is_milestone_service(VMS[-1])


def test_catalog_has_no_ansible_imports():
    # The catalog is plain data a newcomer can read and extend.
    source = open(catalog.__file__, encoding='utf-8').read()
    assert 'import ansible' not in source and 'from ansible' not in source
