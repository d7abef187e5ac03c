# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Mirrors SERVICE_CONTROL_SPEC (and SERVICE_CONTROL_RULES) in plugins/module_utils/_specs.py. Private to the collection.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  name:
    description:
      - What to control, as a list (a single string works too). Each entry is
      - a catalog key, V(recording_server), V(image_server), V(image_import), V(log_check), V(event_server) or
        V(mobile_server);
      - a set, V(standard) (all six services, as a Standard installation has them), V(custom) (the four core
        services plus whichever of the Event Server and Mobile Server are installed), or V(all) (every catalog
        service installed on the host);
      - or a real Windows service name, for example V(Milestone XProtect Recording Server). A name the catalog does
        not know is started before the XProtect services and stopped after them.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(started) and V(stopped) change only services that are not already so.
      - V(restarted) stops and starts every named service (a stopped one is only started).
      - At least one of O(state) and O(start_mode) is required.
    type: str
    choices: [started, stopped, restarted]
  start_mode:
    description:
      - The start mode to set. V(delayed) is Automatic (Delayed Start).
      - It is set before the state is changed, so O(start_mode=manual) with O(state=started) starts a disabled service.
    type: str
    choices: [auto, delayed, manual, disabled]
  timeout:
    description:
      - Seconds each service may take to reach its state, counted from its own start or stop request.
      - Between V(1) and V(86400) seconds.
    type: int
    default: 120
  missing:
    description:
      - What to do about a named service that is not installed.
      - V(auto) skips the Event Server and Mobile Server when they come from the V(custom) or V(all) set (a Custom
        installation leaves them out), and fails for a service named explicitly.
      - V(skip) skips every missing service; V(fail) fails for every missing service.
      - Skipped services are listed in RV(xprotect.go.service#module:missing).
    type: str
    choices: [auto, skip, fail]
    default: auto
  force_dependents:
    description:
      - Other services that Windows registered as depending on a service to be stopped must be stopped first.
      - When V(false), the task fails naming them. When V(true), they are stopped first, and for
        O(state=restarted) started again afterwards.
    type: bool
    default: false
  account:
    description:
      - The account the services log on as. V(LocalSystem), V(NT AUTHORITY\\LocalService) and
        V(NT AUTHORITY\\NetworkService) (built-in), V(NT SERVICE\\<service>) (virtual), V(DOMAIN\\name$) (managed
        service account), V(DOMAIN\\user), V(.\\user) (an account of the host itself) or V(user@domain).
      - Idempotent on the account's name, which Windows shows as RV(xprotect.go.service#module:services.start_name).
        Built-in accounts match by any of their names (V(LocalSystem) is V(.\\LocalSystem) and V(NT AUTHORITY\\SYSTEM)),
        and V(.\\user) matches V(HOST\\user). A user principal name and V(DOMAIN\\user) of one user cannot be told apart without Active
        Directory, so they count as different, with a warning. Write it the way Windows shows it.
      - The change takes effect when the service next starts. A running service keeps its account until then; the result
        says RV(xprotect.go.service#module:services.restart_required). O(state=restarted) in the same task applies it.
      - At least one of O(state), O(start_mode) and O(account) is required.
    type: str
  account_password:
    description:
      - The password of a user O(account). Built-in, virtual and managed accounts have none and take none.
      - Needed when the services change to a user account. Windows cannot give it back, so it is sent as O(update_password)
        says, and never shown in results, diff, warnings or errors.
      - This is not the password Ansible connects with.
      - A wrong password is not refused by Windows when it is set; the service then fails to start, and the message quotes
        Windows' reason (events 7038 and 7000, ReturnValue 15).
    type: str
  update_password:
    description:
      - V(on_change) sends O(account_password) only when the account changes; the task is then idempotent.
      - V(always) sends it every time (for example after the password was changed in Active Directory); the task then
        always reports a change, and a running service a restart it needs.
    type: str
    choices: [always, on_change]
    default: on_change
"""
