# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Offline stand-in for the get-pip script that ansible-test downloads to bootstrap its test venvs.

scripts/sanity copies it to ~/.ansible/test/cache/get_pip_<version>.py only when that file is
missing (the download host is not reachable from here). ansible-test runs it inside a fresh venv as
    get_pip_<version>.py --disable-pip-version-check pip==<version> --no-setuptools --no-wheel
so: bootstrap pip from the standard library's bundled wheel, then let that pip install what was
asked for from the usual package index, with the machine's own pip settings.
"""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys


def main():
    arguments = sys.argv[1:]
    # ensurepip deletes every PIP_* variable and points PIP_CONFIG_FILE at /dev/null; the real
    # install below must see the machine's index, certificate and cache settings again.
    environment = dict(os.environ)
    ensurepip.bootstrap()
    wanted = [argument for argument in arguments if argument not in ('--no-setuptools', '--no-wheel')]
    pip = [sys.executable, '-m', 'pip']
    subprocess.run(pip + ['install'] + wanted, env=environment, check=True)
    if '--no-setuptools' in arguments:
        subprocess.run(pip + ['uninstall', '--yes', '--quiet', 'setuptools'], env=environment, check=True)


if __name__ == '__main__':
    main()
