# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Mirrors SERVICE_NAMES_SPEC in plugins/module_utils/_specs.py. Private to the collection.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  service_names:
    description:
      - Maps catalog keys to the Windows service names a host really uses, where the catalog's names are wrong for
        your product version, for example C(recording_server) to C(Milestone XProtect Recording Server).
      - A mapped key matches that service name only.
      - When not set, the inventory variable C(xprotect_go_service_names) is used, so a whole group can set it once.
      - Keys are V(recording_server), V(image_server), V(image_import), V(log_check), V(event_server), V(mobile_server).
    type: dict
"""
