#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_oauth_clients
short_description: Manage several OAuth 2.0 integrated applications of Creatio in one task
version_added: 0.2.0
description:
  - Does for every item of O(clients) what M(creatio.oauth.creatio_oauth_client) does for one integration, with the
    same rules (lookup by name, no duplicates, adoption, check mode, diff, secrets), in one task.
  - "Why one task: Ansible starts a new process for every task and every loop item, which costs more than the work
    itself. One task for a whole bootstrap logs in at most once, reads all its integrations from Creatio with one
    OData request (a few for long lists: each request stays under the web server's query string limit, a few dozen
    names or client ids), and starts one process. The C(creatio.oauth.integrations) role uses it."
  - The items are applied in order. Items that the facts cache answers (re-runs with O(verify=false)) send nothing.
  - Every item is validated before anything is sent; one bad item fails the task and nothing is sent at all.
  - When an item fails for a reason of its own (its input, its record in Creatio, a lost answer), the others are still
    applied and the task fails at the end, naming each failed item. When the failure would hit every item the same
    way (login, TLS, the site unreachable, the OAuth feature off, missing rights), the items after it are not
    attempted.
author:
  - creatio.oauth contributors (@creatio-oauth)
extends_documentation_fragment:
  - creatio.oauth.connection
  - creatio.oauth.connection.verify
  - creatio.oauth.attributes
  - creatio.oauth.attributes.changes
  - creatio.oauth.secret_store
attributes:
  diff_mode:
    details:
      - One diff per changed integration, headed by its name; it never contains a secret.
options:
  clients:
    description:
      - The integrations, each declared with the options of M(creatio.oauth.creatio_oauth_client) (see there for
        the details of each).
      - Integrations of the site that are not listed are left alone.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the integration, its key (unique in the list). There is no rename.
        type: str
        required: true
      state:
        description:
          - V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      grant_type:
        description:
          - V(client_credentials) or V(authorization_code). Required to create the integration; never changed.
        type: str
        choices: [client_credentials, authorization_code]
      application_url:
        description:
          - URL of the application that uses the integration. Required to create it.
        type: str
      system_user_id:
        description:
          - Id (GUID) of the user record a V(client_credentials) integration acts as (not the Id of its contact).
        type: str
      system_user:
        description:
          - The name of that user instead (see O(creatio.oauth.creatio_oauth_client#module:system_user)). All names of
            the list are resolved, with one OData read, before anything is written.
        type: str
      create_system_user:
        description:
          - With O(clients[].system_user), create that technical user when no user of that name exists (Creatio 8.3).
        type: bool
        default: false
      redirect_urls:
        description:
          - The authorized redirect URIs of an V(authorization_code) integration; not touched when omitted.
          - As in M(creatio.oauth.creatio_oauth_client); plain V(http) only to a loopback host.
        type: list
        elements: str
      purge_redirect_urls:
        description:
          - With O(clients[].redirect_urls) given, remove the authorized redirect URIs that are not listed.
        type: bool
        default: true
      active:
        description:
          - Whether the integration is active. Not managed when omitted.
        type: bool
      client_id:
        description:
          - Take over an existing integration by its client id instead of finding it by name.
        type: str
      client_secret_file:
        description:
          - When the run creates the integration, write its client id, client secret and token URL to this file as
            JSON, mode 0600. An existing file is never overwritten. Unique in the list.
          - Checked writable before the first write to Creatio, with those of every other item. When it still cannot
            be written after the integration was created, the secret is kept in C(kept-secrets/) beside the facts
            cache, the item fails naming that file, and the next run writes this file from it.
          - The file is whole or absent; a partial file left by a run killed while writing it is settled by the next
            run, as for M(creatio.oauth.creatio_oauth_client).
          - Overrides O(secrets_dir) for this item.
        type: path
      add_unconfirmed_redirect_urls:
        description:
          - Add declared redirect URIs that cannot be confirmed (see
            O(creatio.oauth.creatio_oauth_client#module:add_unconfirmed_redirect_urls)). By default they are reported
            and not added.
        type: bool
        default: false
      create_when_unreadable:
        description:
          - Create the integration even when neither the facts cache nor Creatio (OData refused) can tell whether it
            exists (see O(creatio.oauth.creatio_oauth_client#module:create_when_unreadable)).
        type: bool
        default: false
      recover_secret:
        description:
          - When the integration exists in Creatio and its secret file (O(clients[].client_secret_file), or its file of
            O(secrets_dir)) is missing, read its client secret back from Creatio (C(GetClientSecret), Creatio 8.1) and
            write the file (see O(creatio.oauth.creatio_oauth_client#module:recover_secret)). Nothing is written to
            Creatio. Where the site has no C(GetClientSecret), the item fails naming rotation as the way out.
          - False by default, as reading a secret back is a deliberate act.
        type: bool
        default: false
      rotate_after_days:
        description:
          - Rotate the client secret when the integration is older than this many days (its C(CreatedOn) in Creatio);
            V(0) rotates on every run (the way to rotate now). See O(creatio.oauth.creatio_oauth_client#module:rotate_after_days).
          - Needs O(secret_store).
        type: int
        version_added: 0.3.0
      rotation_grace_hours:
        description:
          - Hours the predecessor of a rotated integration keeps working; overrides O(rotation_grace_hours) for this item.
        type: int
        version_added: 0.3.0
      rotate_authorization_code:
        description:
          - Allow rotating an V(authorization_code) integration (its client id changes, and its users may have to consent again).
        type: bool
        default: false
        version_added: 0.3.0
      preset:
        description:
          - What kind of integration this is. A preset fixes the grant type and fills in defaults for the keys the
            item does not set; the item is then checked against the grant's rules before anything is sent (every
            problem of the list is reported at once).
          # BEGIN generated by .ci/presets_doc.py from _rules.PRESETS: do not edit
          - "Presets: V(powerbi) (Power BI Connector, V(client_credentials), application URL
            V(https://app.powerbi.com), needs O(clients[].system_user) (or O(clients[].system_user_id)));
            V(webhooks) (webhook service, V(client_credentials), no default application URL, needs
            O(clients[].application_url), O(clients[].system_user) (or O(clients[].system_user_id))); V(clio)
            (Clio, V(client_credentials), application URL V(https://app.clio.com), needs
            O(clients[].system_user) (or O(clients[].system_user_id))); V(outlook_addin) (Creatio.ai add-in
            for Outlook, V(authorization_code), application URL V(https://outlook.office.com), needs
            O(clients[].redirect_urls)); V(custom) (any integration, everything explicit, grant given by the
            item, no default application URL, needs O(clients[].grant_type), O(clients[].application_url),
            and O(clients[].system_user) or O(clients[].redirect_urls))."
          # END generated by .ci/presets_doc.py
          - With a preset, a V(client_credentials) item needs O(clients[].system_user) or O(clients[].system_user_id), and an V(authorization_code)
            item needs O(clients[].redirect_urls), even when the integration exists already.
          - Without a preset the item is taken as it is, like M(creatio.oauth.creatio_oauth_client) takes its options.
        type: str
  secrets_dir:
    description:
      - A folder for the client secrets of the integrations this run creates. Each one goes to its own file there, as
        O(clients[].client_secret_file) would write it, named C(<name>.json) when the name is made of ASCII letters,
        digits, C(_), C(.) and C(-) only (not starting with C(.), at most 96 characters); any other name gets its
        letters and digits (of any script; other characters become C(_)) cut to 96 bytes, C(+) and 12 hexadecimal
        digits of the SHA-256 of the name, such as C(Power_BI+1a2b3c4d5e6f.json). No two names share a file.
      - A file named by the rule of version 0.2.0 and earlier (every character other than ASCII letters, digits, C(_),
        C(.) and C(-) made C(_), so C(Power BI) had C(Power_BI.json)) that holds the secret of the integration of that
        name is still its file.
      - The folder is made (mode 0700) when missing; in check mode nothing is made. Before the first write to
        Creatio, the file of every integration the run would create is checked writable (see
        O(clients[].client_secret_file)); every problem is reported at once and nothing is created.
      - A file of the folder that this collection wrote for an earlier integration of the same name, which Creatio no
        longer has (deleted by hand, say), does not block its creation again. It is kept as C(<file>.<old client id>)
        (never overwritten, never deleted), with a warning and a line in RV(summary), and the new secret takes its
        place. Any other existing file is refused, as with O(clients[].client_secret_file).
    type: path
  verify_tokens:
    description:
      - After creating V(client_credentials) integrations, ask the identity service for a token with each one's
        client id and secret, as M(creatio.oauth.creatio_oauth_token_check) does, and fail (naming the integration)
        when none is issued.
      - The token URL must be known (O(creatio_identity_url), or published by Creatio 8.3 or later, or Creatio cloud);
        otherwise the task fails before anything is sent.
    type: bool
    default: false
  rotation_grace_hours:
    description:
      - After a rotation (O(clients[].rotate_after_days)), the predecessor keeps working for this many hours (counted from
        the time in its retired name), is then deactivated by the run that notices, and deleted by a later run. V(0)
        deactivates and deletes it in the rotating run.
    type: int
    default: 24
    version_added: 0.3.0
notes:
  - 'Creatio shows a client secret only once. Put C(no_log: true) on the task, or use O(clients[].client_secret_file),
    so that the secrets of the integrations it creates do not reach logs.'
  - The lookup of all items is read from Creatio before the first item is applied. An item whose facts cache entry was
    changed meanwhile (by another run on the same controller, which holds the per-integration lock while it acts) is
    read again, fresh, before it is decided.
seealso:
  - module: creatio.oauth.creatio_oauth_client
  - module: creatio.oauth.creatio_oauth_client_info
  - ref: ansible_collections.creatio.oauth.docsite.performance
    description: What a run sends and costs.
'''

EXAMPLES = r'''
- name: Bootstrap the integrations of a site in one task
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_url: https://mycompany.creatio.com
      creatio_username: "{{ vault_creatio_username }}"
      creatio_password: "{{ vault_creatio_password }}"
  tasks:
    - name: Power BI, a webhook service and the Outlook add-in
      creatio.oauth.creatio_oauth_clients:
        clients:
          - name: PowerBI
            grant_type: client_credentials
            application_url: https://app.powerbi.com
            system_user: PowerBIUser
            client_secret_file: /secure/creatio-powerbi.json
          - name: Order webhooks
            grant_type: client_credentials
            application_url: https://hooks.example.com
            system_user: WebhookUser
            create_system_user: true   # created on first run when missing (Creatio 8.3)
            client_secret_file: /secure/creatio-webhooks.json
          - name: Creatio.ai for Outlook
            grant_type: authorization_code
            application_url: https://outlook.office.com
            redirect_urls:
              - https://addin.creatio.com/outlook/callback
          - name: Old webhook
            state: absent
      no_log: true
      register: integrations

    - name: Say what changed (no secrets in this list)
      ansible.builtin.debug:
        msg: "{{ integrations.clients | selectattr('changed') | map(attribute='name') | list }}"
'''

RETURN = r'''
clients:
  description:
    - One entry per item of O(clients), in the same order. On failure too, as far as the task got.
  returned: always, unless the input was refused before anything was sent
  type: list
  elements: dict
  contains:
    name:
      description: Name of the integration.
      type: str
    changed:
      description: Whether this run changed the integration (in check mode, would change it).
      type: bool
    failed:
      description: Whether this item failed, or was not attempted.
      type: bool
    attempted:
      description: V(false) for an item that was not attempted because an earlier failure would have failed it too.
      type: bool
      returned: when the item was not attempted
    msg:
      description: Why the item failed; with the call, the HTTP status, what Creatio said and a hint.
      type: str
      returned: when the item failed
    error:
      description: The same, structured (C(type), C(call), C(status), C(creatio_message), C(hint), C(option)).
      type: dict
      returned: when the item failed
    client:
      description: The integration after the run, as RV(creatio.oauth.creatio_oauth_client#module:client) returns it.
      type: dict
      returned: when the item succeeded
    client_secret:
      description:
        - The client secret, returned only by the run that created the integration. Creatio never shows it again.
        - Never with O(secret_store), except when the store failed after the integration was created and the secret could not
          be kept beside the facts cache either (its only copy then).
      type: str
      returned: when the integration was created in this run
    creatio_url:
      description: The site the integration is on (with RV(clients[].client_secret), for a task that hands the secret on).
      returned: when RV(clients[].client_secret) is
      type: str
    token_url:
      description:
        - The token endpoint of the identity service, when known without a request (O(creatio_identity_url), or Creatio cloud);
          null otherwise.
      returned: when RV(clients[].client_secret) is
      type: str
    secret_store:
      description:
        - Where the secret of the integration is, with O(secret_store), as
          RV(creatio.oauth.creatio_oauth_client#module:secret_store) says (C(location), C(changed), C(version)).
      type: dict
      returned: with O(secret_store), for an integration that is present
    operations:
      description: The OAuthConfigService calls made for this item (in check mode, that would be made), in order.
      type: list
      elements: dict
    source:
      description: Where the integration was found before acting (V(cache), V(server), V(cache+server), V(none), V(given)).
      type: str
      returned: when the item was looked up
    verified:
      description: Whether the identity service issued a token to the new integration (O(verify_tokens)).
      type: bool
      returned: when its token was checked
    rotation:
      description:
        - With O(clients[].rotate_after_days), as RV(creatio.oauth.creatio_oauth_client#module:rotation) says.
      type: dict
      returned: for an item with O(clients[].rotate_after_days)
      version_added: 0.3.0
    stale_secret_file:
      description:
        - The secret file of an earlier integration of that name, deleted since, that was kept aside (in check mode,
          would be) to make way for the new one (see O(secrets_dir)), with the old client id.
      type: dict
      returned: when such a file was in the way
      contains:
        path:
          description: The file the new secret is written to.
          type: str
        kept_as:
          description: Where the old file is now.
          type: str
        client_id:
          description: The client id of the earlier integration.
          type: str
integrations:
  description:
    - One entry per item, as the C(creatio.oauth.integrations) role publishes them in C(creatio_integrations_result).
      Never a secret.
  returned: unless the input was refused before anything was sent
  type: list
  elements: dict
  contains:
    name:
      description: Name of the integration.
      type: str
    preset:
      description: Its preset, or null.
      type: str
    state:
      description: V(present) or V(absent).
      type: str
    grant_type:
      description: Its grant type, as declared or fixed by its preset.
      type: str
    client_id:
      description: Its client id (null in check mode for an integration that would be created).
      type: str
    changed:
      description: Whether the run changed it.
      type: bool
    action:
      description:
        - V(created), V(updated), V(unchanged), V(removed) or V(failed); V(adopted) when another run (another facts cache)
          created the same name at the same time, and this run deleted its own creation and adopted that run's.
      type: str
    operations:
      description: One line per Creatio call the run made (in check mode, would make).
      type: list
      elements: str
    fields:
      description:
        - The declared fields those calls change (V(application_url), V(system_user_id), V(active), V(redirect_urls),
          ...), sorted; what the drift report shows for an integration that would be updated.
      type: list
      elements: str
    compared:
      description:
        - The declared fields this run compared with what the site holds (read in this run), among V(grant_type),
          V(application_url), V(system_user_id), V(active), V(redirect_urls) where the site lists them, or V(state) for
          an integration that is absent or declared absent.
      type: list
      elements: str
      returned: unless it failed
      version_added: 0.3.0
    not_compared:
      description:
        - The declared fields this run could not compare with the site (the site does not list the redirect URIs of an
          integration, or only the facts cache answered). The drift report says V(unknown), never V(in line), for an
          integration with one.
      type: list
      elements: str
      returned: unless it failed
      version_added: 0.3.0
    same_name:
      description:
        - The client ids of every integration Creatio has with this name, when it has more than one (made by hand, say).
          The run works on the oldest (or the one the facts cache knows) and says so; the drift report says V(unknown).
      type: list
      elements: str
      returned: when Creatio has more than one integration of the name
      version_added: 0.3.0
    secret_file:
      description: The file this run wrote the client secret to, or null.
      type: str
    verified:
      description: V(true) or V(false) after a token check, null when not checked.
      type: bool
    error:
      description: Why it failed.
      type: str
      returned: when it failed
    unconfirmed_redirect_urls:
      description: Declared redirect URIs that could not be confirmed and were not added.
      type: list
      elements: str
      returned: when there are any
    rotation:
      description:
        - With C(rotate_after_days), the integration's C(created_on), C(age_days) and C(next_rotation) (UTC), C(due),
          C(reason), C(rotated) or C(would_rotate), C(waiting), C(predecessor), C(rolled_back), and C(retiring) (the
          predecessors in their grace period, with C(deactivate_after)).
      type: dict
      returned: for an item with C(rotate_after_days)
      version_added: 0.3.0
summary:
  description: A report of the run for people, one line per integration and call (what the role prints). Never a secret.
  returned: unless the input was refused before anything was sent
  type: list
  elements: str
  sample:
    - 'Creatio OAuth integrations: 1 created, 0 updated, 0 unchanged, 0 removed, 0 failed'
    - 'created   PowerBI                        powerbi        client_credentials  0F1E2D3C4B5A69788796A5B4C3D2E1F0'
    - '          - create integration PowerBI (client_credentials)'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._batch import apply_many, item_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._connection import connection_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module
from ansible_collections.creatio.oauth.plugins.module_utils._secret_delivery import with_secret_store
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import secret_store_argspec


def argument_spec():
    spec = connection_argspec(verify=True)
    spec.update(
        clients=dict(type='list', elements='dict', required=True, options=item_argspec()),
        secrets_dir=dict(type='path'),
        verify_tokens=dict(type='bool', default=False),
        secret_store=secret_store_argspec(),
        rotation_grace_hours=dict(type='int', default=24),
    )
    return spec


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), with_secret_store(apply_many))


if __name__ == '__main__':
    main()
