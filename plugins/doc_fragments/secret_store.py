# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The secret_store option of the modules that create integrations. plugins/module_utils/_secret_store.py
    # holds the matching argument spec (SECRET_STORE_OPTIONS); tests/unit/plugins/module_utils/test_secret_store_docs.py
    # fails when the two drift apart.
    DOCUMENTATION = r'''
options:
  secret_store:
    description:
      - Where the client secret of a new integration goes, straight from Creatio's answer, inside the module process.
        With it, the secret is not in the C(client_secret) return value, nor in any log or diff; the C(secret_store) return
        value says where it went.
      - If the store fails after the integration was created (a Vault sealed in between), the secret is kept in a 0600 file
        in C(kept-secrets/) beside the facts cache, the task fails naming the store and that file, and the next run delivers
        it to the store and removes the file, without creating the integration again.
      - Not together with C(client_secret_file) or C(secrets_dir) (one place for the secret); for the files in a folder,
        use O(secret_store.type=files).
      - Before anything is created in Creatio, the store is checked (log in, read what the path holds); a store that
        cannot take the secret fails the task with nothing created.
      - Nothing is written when the store holds the integration's current client id already. A document of another
        client is never written over for a new integration.
      - See the Secret stores page of the collection's documentation.
    type: dict
    suboptions:
      type:
        description:
          - V(vault_kv2) is HashiCorp Vault or OpenBao, KV version 2 (written with check-and-set).
          - V(ansible_vault_file) is a file encrypted with ansible-core's vault code, mode 0600, written once.
          - V(files) is the secrets folder, one 0600 JSON file per integration.
        type: str
        required: true
        choices: [vault_kv2, ansible_vault_file, files]
      path:
        description:
          - Where each integration's document goes. C({site}) is replaced with the site's host (and port, and path), C({name})
            with the integration's name; plain replacement, not a Jinja template. It must contain C({name}).
          - For V(vault_kv2), relative to O(secret_store.mount_point); the default is C(creatio/{site}/{name}).
          - For the file types, an absolute path (C(~) is expanded), required; the folders below its fixed part are made
            with mode 0700.
          - A path that would leave the mount or the folder (C(.), C(..), an empty segment) is refused.
        type: str
      url:
        description:
          - V(vault_kv2) only. The Vault address, for example V(https://vault.example.com:8200).
          - Falls back to the E(VAULT_ADDR) environment variable. One of them is required.
        type: str
      mount_point:
        description:
          - V(vault_kv2) only. The KV version 2 secrets engine. The default is V(secret).
        type: str
      auth_method:
        description:
          - V(vault_kv2) only. V(token) (the default) logs in with O(secret_store.token), V(approle) with
            O(secret_store.role_id) and O(secret_store.secret_id).
        type: str
        choices: [token, approle]
      auth_mount_point:
        description:
          - V(vault_kv2) with V(approle) only. Where the AppRole auth method is enabled. The default is V(approle).
        type: str
      token:
        description:
          - V(vault_kv2) with V(token) only. The Vault token. Never logged.
          - Falls back to the E(VAULT_TOKEN) environment variable.
        type: str
      role_id:
        description:
          - V(vault_kv2) with V(approle) only. The role id.
          - Falls back to the E(VAULT_ROLE_ID) environment variable.
        type: str
      secret_id:
        description:
          - V(vault_kv2) with V(approle) only. The secret id. Never logged.
          - Falls back to the E(VAULT_SECRET_ID) environment variable.
        type: str
      namespace:
        description:
          - V(vault_kv2) only. The Vault namespace, sent as C(X-Vault-Namespace) with every request.
          - Falls back to the E(VAULT_NAMESPACE) environment variable.
        type: str
      ca_cert:
        description:
          - V(vault_kv2) only. A PEM file with the CA that signed the Vault server's certificate.
          - Falls back to the E(VAULT_CACERT) environment variable.
        type: path
      validate_certs:
        description:
          - V(vault_kv2) only. Whether the Vault server's TLS certificate is checked. The default is V(true); V(false) gets a
            warning.
          - Falls back to the opposite of the E(VAULT_SKIP_VERIFY) environment variable.
        type: bool
      vault_password_file:
        description:
          - V(ansible_vault_file) only. A file holding the vault password, or an executable that prints it.
          - Falls back to the E(ANSIBLE_VAULT_PASSWORD_FILE) environment variable (as ansible-vault does). One of them is required.
        type: path
      vault_id:
        description:
          - V(ansible_vault_file) only. A label written in the file's header (C($ANSIBLE_VAULT;1.2;AES256;<vault_id>)).
        type: str
'''
