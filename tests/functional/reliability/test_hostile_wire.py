# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hostile listeners (hostile.py): every wait bounded as a whole, memory bounded, no redirects, no secrets.

The client against each hostile server directly, then one ansible-playbook run where every host
is a hostile server, every way in but the shipped module (the same client runs there). Rows of
docs/reliability.md ("Faults on the wire").
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.xprotect.go.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient

from tests.helpers import COLLECTIONS_DIR, REPO_ROOT

from .helpers import failure, one_clear_line, play, without_inventory, write_yaml
from .hostile import HUGE_BYTES, REDIRECT_TO, TRICKLE_BYTES, HostileServer

USER = 'xpgo-admin'
PASSWORD = 'Hostile-Pw-7!'
TIMEOUT = 3  # connection_timeout of the client-level cases
QUERY = 'SELECT Name, State FROM Win32_Service'

# behaviour -> (scheme, server speaks TLS, kind, fragments, how the message ends), as a winrm inventory host sees them;
# the client-level cases have no inventory host, so their hints name the options alone (without_inventory()).
CASES = {
    'trickle': (
        'http',
        False,
        'timeout',
        [
            'could not get an answer from the WinRM listener at http://127.0.0.1:',
            'within connection_timeout (%d s): no complete answer within %d s' % (TIMEOUT, TIMEOUT),
        ],
        'raise connection_timeout (ansible_winrm_read_timeout_sec)',
    ),
    'huge': (
        'http',
        False,
        'protocol',
        ['sent a reply larger than 16 MiB, refused while it came in'],
        'check that host (ansible_host) and port (ansible_port) point at a Windows WinRM listener',
    ),
    'redirect': (
        'http',
        False,
        'protocol',
        ['answered HTTP 302 redirecting to %s, which was not followed' % REDIRECT_TO, 'a WinRM listener never redirects'],
        'check host (ansible_host), port (ansible_port) and path (ansible_winrm_path)',
    ),
    'dtd_500': (
        'http',
        False,
        'protocol',
        ['unexpected reply from the WinRM listener (document type declarations are refused)'],
        'that nothing in between rewrites its answers',
    ),
    'echo_auth': (
        'http',
        False,
        'fault',
        ['WS-Management fault InternalError (code 2150859046)', 'Authorization: ********'],
        'see the Microsoft-Windows-WinRM/Operational event log on the host',
    ),
    'plain_http': (
        'https',
        False,
        'tls',
        ['answered in plain HTTP, not TLS', 'wrong version number'],
        'use scheme http (ansible_winrm_scheme: http) or port 5986',
    ),
    'tls_only': (
        'http',
        True,
        'unreachable',
        [
            'closed the connection before answering',
            'or the listener speaks https (then use scheme https (ansible_winrm_scheme: https), or port 5985)',
        ],
        'check the host, then run the task again',
    ),
}


def settings_for(server, scheme, **changes):
    values = dict(
        host='127.0.0.1',
        port=server.port,
        scheme=scheme,
        username=USER,
        password=PASSWORD,
        transport='basic',
        validate_certs=False,
        connection_timeout=TIMEOUT,
        operation_timeout=TIMEOUT - 1,
    )
    values.update(changes)
    return ConnectionSettings(**values)


def secret_forms():
    token = base64.b64encode(('%s:%s' % (USER, PASSWORD)).encode('ascii')).decode('ascii')
    return [PASSWORD, token, 'Basic ' + token]


@pytest.mark.parametrize('behaviour', sorted(CASES))
def test_the_client_against_a_hostile_listener(behaviour):
    scheme, tls, kind, fragments, ending = CASES[behaviour]
    with HostileServer(behaviour, tls=tls) as server:
        client = WsmanClient(settings_for(server, scheme))
        with pytest.raises(XProtectError) as caught:
            client.enumerate(QUERY)
    text = one_clear_line(str(caught.value), *map(without_inventory, fragments))
    assert caught.value.kind == kind
    assert text.startswith('127.0.0.1: ')
    assert text.endswith(without_inventory(ending)), text
    for secret in secret_forms():
        assert secret not in text
    # Every case ends within the timeout, as the server saw it: the trickle sends one byte a second (TRICKLE_BYTES, 120,
    # in all), so the bytes it got out before the client hung up count the seconds the client listened; the huge reply
    # was refused while it came in, long before its end.
    if behaviour == 'redirect':
        assert len(server.requests) == 1, 'the redirect was followed'
    if behaviour == 'trickle':
        assert server.trickled <= 2 * TIMEOUT, 'the client listened to %d bytes (seconds) of the trickle' % server.trickled
    if behaviour == 'huge':
        assert server.sent_bytes < HUGE_BYTES / 4, 'the client read %d bytes of the huge reply' % server.sent_bytes


def test_the_trickle_ends_at_the_deadline_whatever_the_read_timeout_would_allow():
    """requests' timeout is per socket read: each byte arrives well within it, so only a deadline for the whole reply ends this."""
    with HostileServer('trickle') as server:
        client = WsmanClient(settings_for(server, 'http', connection_timeout=2, operation_timeout=1))
        with pytest.raises(XProtectError) as caught:
            client.get('Win32_Service', {'Name': 'WinRM'})
    assert caught.value.kind == 'timeout' and caught.value.unreachable
    # One byte a second: the bytes the server sent before the client hung up are the seconds it listened.
    assert server.trickled < 6, 'the client listened to %d bytes (seconds) of the trickle' % server.trickled


MEMORY_PROBE = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    sys.path.insert(0, %(collections)r)
    from ansible_collections.xprotect.go.plugins.module_utils._connection import ConnectionSettings
    from ansible_collections.xprotect.go.plugins.module_utils._errors import XProtectError
    from ansible_collections.xprotect.go.plugins.module_utils._wsman import WsmanClient
    settings = ConnectionSettings('127.0.0.1', port=int(sys.argv[1]), scheme='http', username='u', password='p', transport='basic',
                                  connection_timeout=30, operation_timeout=20)
    client = WsmanClient(settings)
    client._get_protocol()  # imports and set-up before measuring
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.monotonic()
    try:
        client.enumerate('SELECT Name FROM Win32_Service')
        message = None
    except XProtectError as error:
        message = str(error)
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({'peak': peak, 'rss_growth_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before,
                      'elapsed': time.monotonic() - start, 'message': message}))
""")


def test_a_200_mb_reply_costs_far_less_than_200_mb():
    """The reply is refused once past 16 MiB while it streams: peak memory stays far below its size."""
    with HostileServer('huge') as server:
        probe = subprocess.run(
            [sys.executable, '-c', MEMORY_PROBE % {'collections': str(COLLECTIONS_DIR)}, str(server.port)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO_ROOT,
        )
        sent = server.sent_bytes
    assert probe.returncode == 0, probe.stderr
    outcome = json.loads(probe.stdout)
    assert 'larger than 16 MiB' in outcome['message']
    assert outcome['peak'] < 50 * 1024 * 1024, 'peak %d MB' % (outcome['peak'] // 2**20)
    assert outcome['rss_growth_kb'] < 100 * 1024, 'resident memory grew by %d MB' % (outcome['rss_growth_kb'] // 1024)
    assert sent < HUGE_BYTES / 2, 'the client read %d MB before refusing' % (sent // 2**20)


def test_basic_credentials_windows_cannot_decode_are_refused_before_anything_is_sent():
    with HostileServer('redirect') as server:
        client = WsmanClient(settings_for(server, 'http', password='пароль-Hostile-7'))
        with pytest.raises(XProtectError) as caught:
            client.enumerate(QUERY)
    text = one_clear_line(str(caught.value), 'transport basic cannot carry this password', 'nothing was sent')
    assert caught.value.kind == 'invalid' and 'пароль' not in text
    assert text.endswith('Use transport ntlm, which carries any character')  # no inventory host: the task options
    assert server.requests == [] and client.round_trips == 0


@pytest.mark.parametrize('auth, scheme', [('ntlm', 'http'), ('ntlm', 'https'), ('basic', 'https'), ('certificate', 'https')])
def test_every_transport_still_works_through_the_bounded_transport(sim_fleet, auth, scheme):
    """pywinrm's authentication and NTLM message encryption (http) keep working on our transport."""
    fleet = sim_fleet(auth=auth, scheme=scheme)
    running = fleet.hosts[0]
    address, port = running.endpoint.split('://')[1].split('/')[0].rsplit(':', 1)
    certificate = auth == 'certificate'
    settings = ConnectionSettings(
        address,
        port=int(port),
        scheme=scheme,
        transport=auth,
        username=None if certificate else fleet.username,
        password=None if certificate else fleet.password,
        ca_trust_path=fleet.ca_path if scheme == 'https' else None,
        client_cert=fleet.client_cert_path if certificate else None,
        client_key=fleet.client_key_path if certificate else None,
    )
    client = WsmanClient(settings)
    names = {item['Name'] for item in client.enumerate('SELECT Name FROM Win32_Service')}
    assert 'Milestone XProtect Recording Server' in names
    client.get('Win32_Service', {'Name': 'Milestone Image Server'})
    transport = client._get_protocol().transport  # pylint: disable=protected-access
    assert type(transport).__name__ == 'BoundedTransport'
    assert (transport.encryption is not None) == (auth == 'ntlm' and scheme == 'http')
    assert running.stats.as_dict()['soap_requests'] == 2


# -- what the user sees: one ansible-playbook run, every host a hostile listener ---------------

PLAYBOOK_TIMEOUT = 5  # ansible_winrm_read_timeout_sec of the playbook hosts: the trickle would take 120 s
WAYS = ('inventory', 'delegate')
# behaviour -> Ansible's verdict
VERDICT = {
    'trickle': 'unreachable',
    'huge': 'failed',
    'redirect': 'failed',
    'dtd_500': 'failed',
    'echo_auth': 'failed',
    'plain_http': 'failed',
    'tls_only': 'unreachable',
    'non_ascii_basic': 'failed',
}


@pytest.fixture(scope='module')
def hostile_runs(module_dir, module_runner):
    """{way: (PlaybookRun, trickle bytes sent during the run, {behaviour: server})}: all hostile hosts in one play."""
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(HostileServer(name, tls=CASES[name][1])) for name in CASES}
        servers['non_ascii_basic'] = stack.enter_context(HostileServer('redirect'))
        hosts = {}
        for name, server in servers.items():
            scheme = CASES[name][0] if name in CASES else 'http'
            hosts['hostile-' + name.replace('_', '-')] = {
                'ansible_connection': 'winrm',
                'ansible_host': '127.0.0.1',
                'ansible_port': server.port,
                'ansible_winrm_scheme': scheme,
                'ansible_user': USER,
                'ansible_password': 'пароль-Hostile-7' if name == 'non_ascii_basic' else PASSWORD,
                'ansible_winrm_transport': 'basic',
                'ansible_winrm_server_cert_validation': 'ignore',
                'ansible_winrm_read_timeout_sec': PLAYBOOK_TIMEOUT,
                'ansible_winrm_operation_timeout_sec': PLAYBOOK_TIMEOUT - 1,
            }
        inventory = write_yaml(module_dir / 'hostile-inventory.yml', {'all': {'children': {'hostile': {'hosts': hosts}}}})
        runs = {}
        for way in WAYS:
            trickled = servers['trickle'].trickled
            run = module_runner(
                [play('- {name: read, xprotect.go.service_info: {}}', hosts='hostile', way=way)],
                inventory,
                env={'ANSIBLE_FORKS': str(len(hosts))},
                timeout=240,
            )
            runs[way] = (run, servers['trickle'].trickled - trickled, servers)
        yield runs


@pytest.mark.parametrize('way', WAYS)
@pytest.mark.parametrize('name', sorted(VERDICT))
def test_what_the_user_sees(hostile_runs, way, name):
    run, dummy, servers = hostile_runs[way]
    result = failure(run, 'hostile-' + name.replace('_', '-'))
    assert result.status == VERDICT[name]
    message = result.result['msg']
    if name == 'non_ascii_basic':
        one_clear_line(message, 'transport basic cannot carry this password', 'Use transport ntlm (ansible_winrm_transport: ntlm)')
        assert servers[name].requests == [], 'something was sent'
    else:
        scheme, dummy, dummy, fragments, ending = CASES[name]
        fragments = [
            f.replace('(%d s)' % TIMEOUT, '(%d s)' % PLAYBOOK_TIMEOUT).replace('within %d s' % TIMEOUT, 'within %d s' % PLAYBOOK_TIMEOUT)
            for f in fragments
        ]
        one_clear_line(message, *fragments)
        assert message.endswith(ending), message
    assert message.startswith('127.0.0.1: ')


@pytest.mark.parametrize('way', WAYS)
def test_the_run_ends_long_before_the_trickle_would(hostile_runs, way):
    run, trickled, dummy = hostile_runs[way]
    assert 'Traceback' not in run.stdout + run.stderr
    # The trickling host alone would hold the run for TRICKLE_BYTES (120) seconds without the deadline: at one byte a
    # second, the bytes it got out before the run hung up on it are the seconds it was listened to.
    assert trickled < TRICKLE_BYTES / 2, 'the run listened to %d bytes (seconds) of the trickle' % trickled


@pytest.mark.parametrize('way', WAYS)
def test_no_form_of_the_password_in_any_output(hostile_runs, way):
    run, dummy, dummy = hostile_runs[way]
    output = run.stdout + run.stderr + json.dumps([r.result for r in run.results])
    for secret in secret_forms() + ['пароль-Hostile-7', base64.b64encode('xpgo-admin:пароль-Hostile-7'.encode('utf-8')).decode()]:
        assert secret not in output
    assert 'Authorization: ********' in output, "the echoing host's fault text is shown, masked"
