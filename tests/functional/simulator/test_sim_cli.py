# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""`xprotect-go-simulator serve|fleet` (the console script) and `python -m xprotect_go_simulator` as CI and the
demo run them (subprocesses, bounded waits)."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from xprotect_go_simulator import ControlClient, ControlError
from xprotect_go_simulator.__main__ import DEFAULT_PASSWORD, build_parser, read_password

REPO_ROOT = Path(__file__).resolve().parents[3]
PASSWORD = 'Cli-Secret-987!'
START_TIMEOUT = 30
# The console script pip installed beside this Python.
CONSOLE_SCRIPT = str(Path(sys.executable).parent / 'xprotect-go-simulator')


class Simulator:
    """A simulator subprocess whose output lines arrive on a queue."""

    def __init__(self, *args):
        env = dict(os.environ, XPGO_SIM_PASSWORD=PASSWORD)
        self.process = subprocess.Popen(
            [CONSOLE_SCRIPT, *args], cwd=str(REPO_ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines = queue.Queue()
        self.output = []
        self.stderr = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def ready_fields(self):
        line = self.lines.get(timeout=START_TIMEOUT)
        assert line.startswith('READY '), line
        return dict(field.split('=', 1) for field in line.split()[1:])

    def terminate(self, signum=signal.SIGTERM):
        self.process.send_signal(signum)
        returncode = self.process.wait(timeout=20)
        self._reader.join(timeout=5)
        return returncode

    def kill(self):
        """Kill if still running; returns stderr (idempotent: the fixture calls it again)."""
        if self.stderr is None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            self._reader.join(timeout=5)
            self.stderr = self.process.stderr.read()
            self.process.stdout.close()
            self.process.stderr.close()
        return self.stderr


@pytest.fixture
def simulator():
    started = []

    def start(*args):
        started.append(Simulator(*args))
        return started[-1]

    try:
        yield start
    finally:
        for process in started:
            process.kill()


@pytest.mark.slow
@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_ready_serves_and_exits_cleanly(simulator, wsman, signum):
    sim = simulator(
        'serve', '--auth', 'ntlm', '--port', '0', '--address', '127.0.0.5', '--profile', 'custom', '--override', 'Spooler:State=Stopped'
    )
    fields = sim.ready_fields()
    assert fields['endpoint'].startswith('http://127.0.0.5:') and fields['endpoint'].endswith('/wsman')
    assert fields['control'].startswith('http://127.0.0.1:')
    assert fields['host'] == 'xpgo-001' and fields['profile'] == 'custom' and fields['auth'] == 'ntlm' and fields['ca'] == '-'

    from winrm.protocol import Protocol  # pylint: disable=import-outside-toplevel

    protocol = Protocol(fields['endpoint'], transport='ntlm', username='xpgo-admin', password=PASSWORD, ca_trust_path=None)
    names = {item['Name']: item['State'] for item in wsman.enumerate_all(protocol, 'SELECT Name, State FROM Win32_Service')}
    assert 'Milestone Mobile Service' not in names
    assert names['Spooler'] == 'Stopped'
    assert ControlClient(token=fields['token']).get(fields['control'] + '/hosts')[0]['endpoint'] == fields['endpoint']
    with pytest.raises(ControlError) as refused:
        ControlClient().get(fields['control'] + '/hosts')  # another process's fleet: no token known here
    assert refused.value.status == 401
    deep = urllib.request.Request(
        fields['control'] + '/hosts/xpgo-001/faults',
        data=b'[' * 10000 + b']' * 10000,
        method='POST',
        headers={'Authorization': 'Bearer ' + fields['token']},
    )
    with pytest.raises(urllib.error.HTTPError) as bad:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(deep, timeout=10)
    assert bad.value.code == 400

    assert sim.terminate(signum) == 0
    stderr = sim.kill()
    assert PASSWORD not in ''.join(sim.output) + stderr
    assert 'Traceback' not in stderr


@pytest.mark.slow
def test_fleet_writes_a_valid_inventory(simulator, tmp_path):
    inventory = tmp_path / 'hosts.yml'
    state_file = tmp_path / 'state.json'
    sim = simulator(
        'fleet',
        '--hosts',
        '3',
        '--profile-mix',
        'standard=2,custom=1',
        '--inventory',
        str(inventory),
        '--state-file',
        str(state_file),
        '--delay-ms',
        '5',
    )
    fields = sim.ready_fields()
    assert fields['hosts'] == '3' and fields['inventory'] == str(inventory)
    assert Path(fields['ca']).is_file()

    listing = subprocess.run(
        [str(Path(sys.executable).parent / 'ansible-inventory'), '-i', str(inventory), '--list'],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=dict(os.environ, ANSIBLE_HOME=str(tmp_path)),
    )
    parsed = json.loads(listing.stdout)
    assert parsed['xprotect']['hosts'] == ['xpgo-001', 'xpgo-002', 'xpgo-003']
    hostvars = parsed['_meta']['hostvars']
    state = json.loads(state_file.read_text())
    assert state['control_url'] == fields['control'] and state['control_token'] == fields['token']
    assert state_file.stat().st_mode & 0o777 == 0o600, 'the state file holds the control token'
    for host in state['hosts']:
        variables = hostvars[host['name']]
        assert variables['ansible_host'] == host['address'] and variables['ansible_port'] == host['port']
        assert variables['ansible_connection'] == 'winrm' and variables['ansible_winrm_transport'] == 'basic'
        assert variables['ansible_winrm_scheme'] == 'https'
        assert variables['ansible_winrm_server_cert_validation'] == 'validate'
        assert variables['ansible_winrm_ca_trust_path'] == fields['ca']
        assert variables['ansible_password'] == PASSWORD
        assert variables['xprotect_go_simulator_control'] == '%s/hosts/%s' % (fields['control'], host['name'])
        assert variables['xprotect_go_simulator_control_token'] == fields['token']
    control = ControlClient(fields['control'], token=fields['token'])
    assert [host['profile'] for host in control.get('/hosts')] == ['standard', 'standard', 'custom']
    assert PASSWORD not in state_file.read_text()

    assert sim.terminate() == 0
    assert PASSWORD not in ''.join(sim.output) + sim.kill()


def test_help_documents_every_option():
    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.dest == 'command').choices  # pylint: disable=protected-access
    for name, subparser in subcommands.items():
        text = subparser.format_help()
        for action in subparser._actions:  # pylint: disable=protected-access
            for option in action.option_strings:
                assert option in text, '%s %s' % (name, option)
            assert action.help, '%s %s has no help' % (name, action.dest)


def test_bad_arguments_exit_non_zero():
    result = subprocess.run(
        [sys.executable, '-m', 'xprotect_go_simulator', 'serve', '--address', '10.0.0.1'],
        cwd=str(REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert 'loopback' in result.stderr
    assert 'READY' not in result.stdout


def test_password_sources_in_order(tmp_path):
    secret = tmp_path / 'password'
    secret.write_text('From-File-1!\nignored second line\n', encoding='utf-8')
    parse = build_parser().parse_args
    environ = {'XPGO_SIM_PASSWORD': 'From-Env-2!'}
    assert read_password(parse(['serve', '--password-file', str(secret)]), environ) == 'From-File-1!'
    assert read_password(parse(['serve', '--password', 'From-Argv-3!']), environ) == 'From-Argv-3!'
    assert read_password(parse(['serve']), environ) == 'From-Env-2!'
    assert read_password(parse(['serve']), {}) == DEFAULT_PASSWORD
    with pytest.raises(SystemExit):
        parse(['serve', '--password', 'x', '--password-file', str(secret)])


@pytest.mark.slow
def test_serve_takes_the_password_from_a_file(simulator, tmp_path, wsman):
    secret = tmp_path / 'password'
    secret.write_text('File-Secret-654!\n', encoding='utf-8')
    sim = simulator('serve', '--auth', 'basic', '--scheme', 'http', '--address', '127.0.0.6', '--password-file', str(secret))
    fields = sim.ready_fields()
    session = wsman.plain_session()
    for password, status in (('File-Secret-654!', 200), (PASSWORD, 401)):  # the file wins over $XPGO_SIM_PASSWORD
        session.auth = ('xpgo-admin', password)
        assert session.post(fields['endpoint'], data=b'', timeout=10).status_code == status
    assert sim.terminate() == 0
    assert 'File-Secret-654!' not in ''.join(sim.output) + sim.kill()


@pytest.mark.parametrize('content', [None, ''], ids=['missing', 'empty'])
def test_an_unusable_password_file_stops_the_start(tmp_path, content):
    secret = tmp_path / 'password'
    if content is not None:
        secret.write_text(content, encoding='utf-8')
    result = subprocess.run(
        [CONSOLE_SCRIPT, 'serve', '--password-file', str(secret)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert '--password-file' in result.stderr and 'Traceback' not in result.stderr
    assert 'READY' not in result.stdout
