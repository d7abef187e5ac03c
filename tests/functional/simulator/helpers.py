# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers of the tests under tests/functional/simulator: plain functions, classes and constants (conftest.py holds only
fixtures and hooks; tests import these from here)."""

import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET

import requests
import xmltodict
from winrm.protocol import Protocol


ENUMERATION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration'
WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd'
WQL_DIALECT = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'
CIMV2_ALL = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*'
SERVICE_URI = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'
MILESTONE_SERVICES = {
    'Milestone XProtect Recording Server',
    'Milestone Image Server',
    'Milestone Image Import Service',
    'Milestone Log Check Service',
    'MilestoneEventServerService',
    'Milestone Mobile Service',
}


def local_name(tag):
    return tag.rsplit('}', 1)[-1]


def protocol_for(fleet, running=None, **overrides):
    """pywinrm Protocol for a host of the fleet, the way the collection's client builds it."""
    running = running or fleet.hosts[0]
    options = {
        'transport': fleet.auth,
        'username': fleet.username,
        'password': fleet.password,
        'read_timeout_sec': 30,
        'operation_timeout_sec': 20,
    }
    # ca_trust_path None: no fallback to $REQUESTS_CA_BUNDLE (pywinrm warns about that)
    options['ca_trust_path'] = fleet.ca_path if fleet.scheme == 'https' else None
    if fleet.scheme == 'https':
        options['server_cert_validation'] = 'validate'
    if fleet.auth == 'certificate':
        options.update(cert_pem=fleet.client_cert_path, cert_key_pem=fleet.client_key_path)
    options.update(overrides)
    return Protocol(running.endpoint, **options)


def _envelope(protocol, action, resource_uri, body):
    envelope = protocol.build_wsman_header(action, resource_uri)
    envelope['env:Body'] = body
    return xmltodict.unparse({'env:Envelope': envelope})


def enumerate_message(protocol, wql, max_elements=32000):
    return _envelope(
        protocol,
        ENUMERATION + '/Enumerate',
        CIMV2_ALL,
        {
            'n:Enumerate': {
                'w:OptimizeEnumeration': None,
                'w:MaxElements': str(max_elements),
                'w:Filter': {'@Dialect': WQL_DIALECT, '#text': wql},
            }
        },
    )


def pull_message(protocol, context, max_elements=32000):
    return _envelope(
        protocol, ENUMERATION + '/Pull', CIMV2_ALL, {'n:Pull': {'n:EnumerationContext': context, 'n:MaxElements': str(max_elements)}}
    )


def invoke_message(protocol, method, service, resource_uri=SERVICE_URI):
    """A Win32_Service method call (StartService, StopService...) on the service named `service`, no parameters."""
    envelope = protocol.build_wsman_header('%s/%s' % (resource_uri, method), resource_uri)
    envelope['env:Header']['w:SelectorSet'] = {'w:Selector': {'@Name': 'Name', '#text': service}}
    envelope['env:Body'] = {'p:%s_INPUT' % method: {'@xmlns:p': resource_uri}}
    return xmltodict.unparse({'env:Envelope': envelope})


def page_of(response):
    """(items as {property: text}, context or None, end_of_sequence) of an Enumerate/Pull response."""
    root = ET.fromstring(response)
    items = []
    for element in root.iter():
        if local_name(element.tag) == 'Items':
            for item in element:
                items.append({local_name(prop.tag): prop.text for prop in item})
    context = next((element.text for element in root.iter() if local_name(element.tag) == 'EnumerationContext'), None)
    end = any(local_name(element.tag) == 'EndOfSequence' for element in root.iter())
    return items, (context or None), end


def enumerate_all(protocol, wql='SELECT * FROM Win32_Service', max_elements=32000, max_pulls=50):
    """Every item of a WQL query through pywinrm's send_message: Enumerate, then Pull to the end."""
    items, context, end = page_of(protocol.send_message(enumerate_message(protocol, wql, max_elements)))
    pulls = 0
    while not end and context:
        assert pulls < max_pulls, 'enumeration did not end'
        page, context, end = page_of(protocol.send_message(pull_message(protocol, context, max_elements)))
        items += page
        pulls += 1
    return items


def plain_session():
    session = requests.Session()
    session.trust_env = False
    return session


def raw_exchange(running, request_bytes, ca_path=None, timeout=10):
    """Send raw bytes to a host (TLS when https) and read until the server closes or the headers end."""
    sock = socket.create_connection((running.address, running.port), timeout=timeout)
    if running.scheme == 'https':
        context = ssl.create_default_context(cafile=ca_path)
        sock = context.wrap_socket(sock, server_hostname=running.address)
    try:
        sock.sendall(request_bytes)
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        sock.close()


def wait_for_threads(before, timeout=5.0):
    """Threads started since `before` that are still alive after up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        extra = [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)
