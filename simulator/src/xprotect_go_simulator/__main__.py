# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Command line: serve one simulated XProtect Go host, or a fleet with an Ansible inventory.

  xprotect-go-simulator serve --auth ntlm --port 0
  xprotect-go-simulator fleet --hosts 20 --profile-mix standard=3,custom=1 --inventory hosts.yml

(`python -m xprotect_go_simulator` is the same command.)

Each command prints ONE line once it serves, then serves until SIGTERM or SIGINT (exit 0):
  READY endpoint=<wsman URL> control=<control URL> token=<control token> host=<name> profile=<profile> auth=<auth> ca=<CA or ->
  READY control=<control URL> token=<control token> hosts=<count> inventory=<path or -> ca=<CA PEM path or ->
The control endpoint answers only requests with "Authorization: Bearer <control token>"; the token is
new at every start (also in --state-file and the inventory).

The password the hosts accept comes from --password-file (its first line), else --password (visible
to every user in the process list: prefer the file or the variable), else the XPGO_SIM_PASSWORD
variable, else the built-in test password. It is never printed; the inventory (mode 0600) holds it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import signal
import sys
import threading
import typing as t

from .costs import MODELS
from .fleet import DEFAULT_PASSWORD, DEFAULT_USERNAME, Fleet, parse_profile_mix
from .profiles import PROFILES

PASSWORD_VARIABLE = 'XPGO_SIM_PASSWORD'


def parse_override(text: str) -> tuple[str, str, t.Any]:
    """'NAME:key=value' -> (NAME, key, value); value is JSON when it parses (3, true, null), else text."""
    service, colon, assignment = text.partition(':')
    key, equals, raw = assignment.partition('=')
    if not (colon and equals and service.strip() and key.strip()):
        raise argparse.ArgumentTypeError('expected NAME:key=value, got %r' % text)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return service.strip(), key.strip(), value


def profile_mix(text: str) -> str:
    try:
        unknown = [name for name, _count in parse_profile_mix(text) if name not in PROFILES]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if unknown:
        raise argparse.ArgumentTypeError('unknown profile(s) %s; known: %s' % (', '.join(unknown), ', '.join(sorted(PROFILES))))
    return text


def _common_options(parser):
    parser.add_argument(
        '--auth', choices=('basic', 'ntlm', 'certificate'), default='basic', help='authentication the listeners accept (default: basic)'
    )
    parser.add_argument(
        '--scheme', choices=('http', 'https'), help='default: https for basic and certificate, http for ntlm (with message encryption)'
    )
    parser.add_argument('--username', default=DEFAULT_USERNAME, help='the account clients log on with (default: %(default)s)')
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        '--password-file',
        metavar='PATH',
        type=pathlib.Path,
        help='read the password from the first line of this file (recommended, with $%s)' % PASSWORD_VARIABLE,
    )
    secret.add_argument(
        '--password',
        help='the password itself: visible in the process list, prefer --password-file or $%s '
        '(default: $%s, else the built-in test password)' % (PASSWORD_VARIABLE, PASSWORD_VARIABLE),
    )
    parser.add_argument('--delay-ms', type=float, default=0.0, help='milliseconds every HTTP request waits before its answer')
    parser.add_argument(
        '--cost-model',
        choices=sorted(MODELS),
        default='instant',
        help='what Windows takes for each operation, waited out before the answer: instant (default) or '
        'windows (published figures: WMI queries, Gets, method calls, NTLM handshakes)',
    )
    parser.add_argument(
        '--override',
        action='append',
        type=parse_override,
        default=[],
        metavar='NAME:key=value',
        help='configure(NAME, key=value) on every host after start; repeatable. '
        'Example: "Milestone Image Server:StartName=XPGO\\svc-image"',
    )
    parser.add_argument('--start-seconds', type=float, help='seconds every service spends in Start Pending')
    parser.add_argument('--stop-seconds', type=float, help='seconds every service spends in Stop Pending')
    parser.add_argument('--inventory', metavar='PATH', help='write a YAML Ansible inventory for the served hosts here')
    parser.add_argument('--group', default='xprotect', help='inventory group of the hosts (default: %(default)s)')
    parser.add_argument(
        '--state-file', metavar='PATH', help='write JSON with the control URL and token, CA path and hosts here (mode 0600; no password)'
    )
    parser.add_argument('--verbose', action='store_true', help='log requests and failures to stderr')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='xprotect-go-simulator', description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest='command', required=True)
    serve = commands.add_parser('serve', help='serve one simulated host', description='Serve one simulated host until SIGTERM/SIGINT.')
    serve.add_argument('--profile', default='standard', choices=sorted(PROFILES), help='host profile (default: %(default)s)')
    serve.add_argument('--name', default='xpgo-001', help='host (machine) name (default: %(default)s)')
    serve.add_argument('--address', default='127.0.0.1', help='loopback address to listen on (default: %(default)s)')
    serve.add_argument('--port', type=int, default=0, help='port to listen on; 0 picks a free one (default)')
    _common_options(serve)
    fleet = commands.add_parser(
        'fleet',
        help='serve many simulated hosts on 127.0.0.2, 127.0.0.3, ...',
        description='Serve a fleet of simulated hosts until SIGTERM/SIGINT.',
    )
    fleet.add_argument('--hosts', type=int, default=1, help='number of hosts (default: %(default)s)')
    fleet.add_argument(
        '--profile-mix',
        type=profile_mix,
        metavar='NAME=COUNT,...',
        help='profiles in turn, e.g. standard=3,custom=1 (3 standard hosts, then 1 custom, repeating)',
    )
    fleet.add_argument(
        '--profile', default='standard', choices=sorted(PROFILES), help='profile of every host when there is no --profile-mix'
    )
    _common_options(fleet)
    return parser


def _configure_hosts(fleet, args):
    for running in fleet.hosts:
        for service, key, value in args.override:
            running.state.configure(service, **{key: value})
        timings = {
            key: value for key, value in (('start_seconds', args.start_seconds), ('stop_seconds', args.stop_seconds)) if value is not None
        }
        if timings:
            for service in running.state.snapshot():
                running.state.configure(service, **timings)


def read_password(args: argparse.Namespace, environ: t.Mapping[str, str] | None = None) -> str:
    """The password from --password-file, --password, $XPGO_SIM_PASSWORD or the default (ValueError for a bad file)."""
    if args.password_file is not None:
        try:
            text = args.password_file.read_text(encoding='utf-8')
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError('cannot read --password-file %s: %s' % (args.password_file, error)) from None
        password = text.splitlines()[0] if text.splitlines() else ''
        if not password:
            raise ValueError('--password-file %s is empty' % args.password_file)
        return password
    environ = os.environ if environ is None else environ
    return args.password or environ.get(PASSWORD_VARIABLE) or DEFAULT_PASSWORD


def _fleet_from(args):
    password = read_password(args)
    options = {
        'auth': args.auth,
        'scheme': args.scheme,
        'username': args.username,
        'password': password,
        'delay': args.delay_ms / 1000.0,
        'cost_model': args.cost_model,
    }
    if args.command == 'serve':
        return Fleet(count=1, profile=args.profile, names=[args.name], addresses=[args.address], ports=[args.port], **options)
    return Fleet(count=args.hosts, profile_mix=args.profile_mix, profile=args.profile, **options)


def _ready_line(fleet, args):
    ca = fleet.ca_path or '-'
    if args.command == 'serve':
        running = fleet.hosts[0]
        return 'READY endpoint=%s control=%s token=%s host=%s profile=%s auth=%s ca=%s' % (
            running.endpoint,
            fleet.control_url,
            fleet.control_token,
            running.name,
            running.profile,
            fleet.auth,
            ca,
        )
    return 'READY control=%s token=%s hosts=%d inventory=%s ca=%s' % (
        fleet.control_url,
        fleet.control_token,
        len(fleet.hosts),
        args.inventory or '-',
        ca,
    )


def _write_state(path, fleet):
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, 'w', encoding='utf-8') as stream:
        json.dump(fleet.state_dict(), stream, indent=2)


def main(argv: t.Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        fleet = _fleet_from(args).start()
    except (OSError, ValueError, KeyError) as error:
        print('error: cannot start the simulator: %s' % error, file=sys.stderr)
        return 2
    try:
        _configure_hosts(fleet, args)
        if args.inventory:
            fleet.write_inventory(args.inventory, args.group)
        if args.state_file:
            _write_state(args.state_file, fleet)
        print(_ready_line(fleet, args), flush=True)
        while not stop.wait(0.5):
            pass
    except (OSError, ValueError, KeyError, TypeError) as error:
        print('error: %s' % error, file=sys.stderr)
        return 2
    finally:
        fleet.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
