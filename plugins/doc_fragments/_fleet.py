# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Mirrors FLEET_READ_SPEC in plugins/module_utils/_specs.py. Private to the collection.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  hosts:
    description:
      - The inventory hosts to read, in this order.
      - Defaults to the hosts of the play batch (C(ansible_play_batch)) that are still in the play.
    type: list
    elements: str
  concurrency:
    description:
      - How many hosts are read at the same time, between V(1) and V(1000).
      - Defaults to Ansible's forks (C(--forks)), else V(50).
    type: int
"""
