# -*- coding: utf-8 -*-
# Copyright (c) xprotect.go contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Mirrors CONNECTION_SPEC in plugins/module_utils/_connection.py (a unit test keeps them in step).
# Private to the collection.


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  host:
    description:
      - The Windows host's name or address.
      - Defaults to the inventory host's C(ansible_host) when the task runs against a Windows inventory host.
      - Environment variable E(XPROTECT_GO_HOST).
    type: str
  port:
    description:
      - The WinRM listener's port.
      - Inventory C(ansible_port). Environment variable E(XPROTECT_GO_PORT).
      - Defaults to V(5985) when O(scheme=http), else V(5986).
    type: int
  scheme:
    description:
      - V(http) or V(https). Inventory C(ansible_winrm_scheme) (C(ansible_psrp_protocol)).
        Environment variable E(XPROTECT_GO_SCHEME).
      - Defaults to V(http) when O(port=5985), else V(https).
    type: str
    choices: [http, https]
  path:
    description:
      - The listener's URL path. Inventory C(ansible_winrm_path). Environment variable E(XPROTECT_GO_PATH).
      - Defaults to V(/wsman).
    type: str
  username:
    description:
      - The account to log on with, as V(user), V(DOMAIN\\user) or V(user@domain.example).
      - Inventory C(ansible_user). Environment variable E(XPROTECT_GO_USERNAME).
      - The account need not be an administrator; see the README's least-privilege set-up.
    type: str
    aliases: [user]
  password:
    description:
      - The account's password. Inventory C(ansible_password). Environment variable E(XPROTECT_GO_PASSWORD).
      - Never shown in results, warnings or errors.
    type: str
  transport:
    description:
      - How to authenticate. Inventory C(ansible_winrm_transport) (C(ansible_psrp_auth); V(negotiate) means V(ntlm)).
        Environment variable E(XPROTECT_GO_TRANSPORT).
      - V(ntlm) over http encrypts every message, which is the Windows default listener's set-up.
      - V(kerberos) needs C(pywinrm[kerberos]), V(credssp) needs C(pywinrm[credssp]).
      - V(basic) is plain text; use it only over https.
      - Defaults to V(ntlm).
    type: str
    choices: [ntlm, kerberos, credssp, certificate, basic]
  validate_certs:
    description:
      - Whether to validate the listener's TLS certificate over https. Keep it on outside of tests.
      - Inventory C(ansible_winrm_server_cert_validation) (V(ignore) turns it off), or C(ansible_psrp_cert_validation).
        Environment variable E(XPROTECT_GO_VALIDATE_CERTS).
      - Defaults to V(true).
    type: bool
  ca_trust_path:
    description:
      - A CA bundle (PEM) to validate the listener's certificate with, instead of the system's.
      - Inventory C(ansible_winrm_ca_trust_path) (C(ansible_psrp_ca_cert)). Environment variable E(XPROTECT_GO_CA_TRUST_PATH).
    type: path
  client_cert:
    description:
      - Client certificate (PEM) for O(transport=certificate).
      - Inventory C(ansible_winrm_cert_pem). Environment variable E(XPROTECT_GO_CLIENT_CERT).
    type: path
  client_key:
    description:
      - Private key (PEM) of O(client_cert).
      - Inventory C(ansible_winrm_cert_key_pem). Environment variable E(XPROTECT_GO_CLIENT_KEY).
    type: path
  message_encryption:
    description:
      - WinRM message encryption. V(auto) encrypts over http with ntlm, kerberos and credssp.
      - Inventory C(ansible_winrm_message_encryption). Environment variable E(XPROTECT_GO_MESSAGE_ENCRYPTION).
      - Defaults to V(auto).
    type: str
    choices: [auto, always, never]
  connection_timeout:
    description:
      - Seconds to wait for any one answer from the listener. Must be greater than O(operation_timeout).
      - Inventory C(ansible_winrm_read_timeout_sec). Environment variable E(XPROTECT_GO_CONNECTION_TIMEOUT).
      - Defaults to V(30).
    type: int
  operation_timeout:
    description:
      - Seconds the listener may spend on one WS-Management operation.
      - Inventory C(ansible_winrm_operation_timeout_sec). Environment variable E(XPROTECT_GO_OPERATION_TIMEOUT).
      - Defaults to V(20).
    type: int
notes:
  - Connection settings are taken in this order, the first that is set wins, option by option
    (1) the task's options, including C(module_defaults) for C(group/xprotect.go.all);
    (2) the inventory host's connection settings (C(ansible_host), C(ansible_port), C(ansible_user), C(ansible_password),
    C(ansible_winrm_*), or C(ansible_psrp_*) for hosts on the psrp connection);
    (3) the E(XPROTECT_GO_*) environment variables; (4) the defaults.
  - Against a Windows inventory host (C(ansible_connection=winrm) or C(psrp)) the module runs inside Ansible on the
    controller and opens no shell on the host. With C(delegate_to=localhost) it does the same, still using the
    inventory host's connection settings. It runs as a separate module process, with those settings filled in,
    only where it must; with C(become), when delegated to another host, or when pywinrm does not import in the
    controller's Python (it then needs pywinrm in the interpreter that runs it).
  - Nothing is copied to or run on the Windows host; the module uses WS-Management calls to WMI only.
  - A host that cannot be reached (connection refused or reset, no route, no answer within O(connection_timeout)) is
    reported as unreachable, both ways in, so the play goes on with the other hosts.
requirements:
  - pywinrm >= 0.5.0 on the controller
'''
