#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_oauth_client
short_description: Manage an OAuth 2.0 integrated application of Creatio
version_added: 0.1.0
description:
  - Makes one OAuth 2.0 integration (an "integrated application") of a Creatio site exist, or not, exactly as
    declared, through Creatio's C(OAuthConfigService) API.
  - The integration's O(name) is its key. The module never creates a second integration with the same name, even
    when its local facts cache is lost, as long as Creatio lets it read C(OAuthClientApp) through OData.
  - Lookup order is the local facts cache, then OData by name. An integration found in Creatio but not in the cache
    is adopted into the cache without any write.
  - Creatio returns the client secret once, when the integration is created. The module returns it then, as
    RV(client_secret), and never again. Use O(client_secret_file) to have it written to a file, or O(secret_store) to have it
    put into HashiCorp Vault (or OpenBao), an Ansible Vault encrypted file, or a secrets folder (it is then in no result).
author:
  - creatio.oauth contributors (@creatio-oauth)
extends_documentation_fragment:
  - creatio.oauth.connection
  - creatio.oauth.connection.verify
  - creatio.oauth.attributes
  - creatio.oauth.attributes.changes
  - creatio.oauth.redirect_urls
  - creatio.oauth.secret_store
options:
  name:
    description:
      - 'Name of the integration, as shown in Creatio. The key: there is no rename.'
      - Control and invisible characters (such as U+0085, U+2028, U+2029, zero-width spaces, bidirectional controls)
        are refused.
    type: str
    required: true
  state:
    description:
      - V(present) makes the integration exist as declared; V(absent) deletes it (by its client id).
    type: str
    choices: [present, absent]
    default: present
  grant_type:
    description:
      - V(client_credentials) for server-to-server access acting as O(system_user_id);
        V(authorization_code) for access on behalf of a user, through O(redirect_urls).
      - Required to create the integration. Creatio cannot change it afterwards; a different value fails with a
        message that says how to replace the integration.
    type: str
    choices: [client_credentials, authorization_code]
  application_url:
    description:
      - URL of the application that uses the integration (absolute http or https). Required to create it.
    type: str
  system_user_id:
    description:
      - Id (GUID) of the user, usually a technical user, that a V(client_credentials) integration acts as.
      - The Id of the B(user record) (C(SysAdminUnit); the Id column of the user in System designer > Users), not
        the Id of the user's contact, which Creatio refuses (C(Specified system user is not valid.)). O(system_user)
        takes the user's name instead.
      - A V(client_credentials) integration needs it (or O(system_user)). On Creatio 8.3 an V(authorization_code)
        integration refuses it; before 8.3 every integration needs one, whatever its grant.
    type: str
  system_user:
    description:
      - The name of the user the integration acts as (for example C(PowerBIUser)), resolved to the Id of its user
        record through OData C(SysAdminUnit) before anything is written. Unknown or ambiguous names fail then.
      - Use either this or O(system_user_id).
    type: str
  create_system_user:
    description:
      - With O(system_user), create that technical user (Creatio's C(CreateTechnicalUser), 8.3 and later) when no
        user of that name exists. Idempotent by name; predicted in check mode; reported in RV(system_user).
      - On a site without C(CreateTechnicalUser) the task fails before anything is written.
    type: bool
    default: false
  redirect_urls:
    description:
      - The authorized redirect URIs of an V(authorization_code) integration; at least one to create it.
      - Absolute, with a scheme (V(https), V(http) to a loopback host only (V(127.0.0.1), V([::1]), V(localhost)), or
        a private-use scheme of a native app such as V(com.example.app:/callback)), and never with a fragment. Plain
        V(http) to any other host is refused, as the authorization code would travel unencrypted. Compared after normalisation (scheme and host
        lower-case), in any order, duplicates dropped.
      - When omitted, the redirect URIs are not touched.
      - Use this option when one playbook owns the whole list; use M(creatio.oauth.creatio_redirect_url) when several
        plays or roles each add their own URIs.
    type: list
    elements: str
  purge_redirect_urls:
    description:
      - With O(redirect_urls) given, remove the authorized redirect URIs that are not listed.
      - Removing a URI needs its id, which the collection knows for URIs it added. For others the module fails,
        naming the URI and where to find its id.
    type: bool
    default: true
  active:
    description:
      - Whether the integration is active (C(UpdateClient) C(isActive)). Not managed when omitted.
    type: bool
  client_id:
    description:
      - Take over an existing integration by its client id (for example one made by hand), instead of finding it by
        O(name). When its name differs, it is renamed to O(name).
    type: str
  client_secret_file:
    description:
      - When the run creates the integration, write its client id, client secret and token URL to this file as
        JSON, with mode 0600.
      - 'An existing file is never overwritten: the module fails before creating anything.'
      - 'Before creating anything, the module also checks that the file can be written: its name (and that of the
        partial file written beside it, 18 bytes longer) fits the file system (most allow 255 bytes), its folder
        exists, belongs to this user (or root) and this user can write in it. Check mode checks the same, writing nothing.'
      - If the file still cannot be written after the integration was created (the disk filled up, the folder went
        away), the secret is kept in a 0600 file of C(kept-secrets/) beside the facts cache, the task fails naming the
        integration and that file, and the next run writes O(client_secret_file) from it and removes it (without
        creating the integration again).
      - The file is whole or absent. A run killed while writing it leaves a hidden partial file beside it, which the
        next run turns into the file (when it holds the secret of the integration Creatio has) or removes (when it
        holds no usable secret), with a warning; see the collection's secrets page for the other cases.
    type: path
  create_when_unreadable:
    description:
      - When Creatio refuses to let the user read its integrations (OData C(OAuthClientApp)) and the facts cache does
        not know this one, nothing can tell whether it exists. By default the module fails then, before any write,
        naming the permission to grant (C(Access to OData)).
      - V(true) creates it anyway, after you checked the integration page in Creatio (if it existed, Creatio then has
        two integrations with that name).
    type: bool
    default: false
  recover_secret:
    description:
      - When the integration exists in Creatio (read from Creatio in this run) and O(client_secret_file) is missing
        (no partial or kept copy of it is being settled), read its client secret back from Creatio
        (C(GetClientSecret), Creatio 8.1; whether 8.3 has it is unknown) and write the file as for a new integration
        (mode 0600, whole or absent). The result is changed, with one C(GetClientSecret) operation; nothing is written
        to Creatio and the secret is in no return value. Check mode reports it and sends nothing.
      - False by default, because reading a secret back is a deliberate act, and a secret read back is as sensitive
        as a new one. Without it, a missing file of an existing integration gets a warning.
      - Where the site has no C(GetClientSecret) (HTTP 404 after a good login, kept in the facts cache for a day), the
        task fails naming rotation (a new integration, O(state=absent) then O(state=present)) as the way out; the
        module never deletes or re-creates an integration by itself.
    type: bool
    default: false
  rotate_after_days:
    description:
      - Rotate the client secret when the integration is older than this many days (its C(CreatedOn) in Creatio); V(0)
        rotates on every run, the way to rotate now. Creatio has no call that gives an integration a new secret, so a
        rotation creates a successor with the same settings under the name, checks that the identity service issues it a
        token (V(client_credentials) integrations), puts its secret into the O(secret_store), and only then retires the
        predecessor, renamed C(<name> (retired <UTC time>, rotated)) so that exactly one integration carries the name.
      - The predecessor keeps working for O(rotation_grace_hours), is then deactivated, and deleted by a later run.
      - A failed token check or store rolls the rotation back (the successor deleted, the predecessor keeps its name); a
        run killed mid-way is rolled back by the next run. A re-run before the next due date writes nothing. While a
        predecessor is still retiring, a due rotation waits (never a third integration).
      - Needs O(secret_store), and the OData read of C(OAuthClientApp) (without it the age is unknown and nothing is
        rotated, with a warning). Not for V(authorization_code) integrations unless O(rotate_authorization_code).
    type: int
    version_added: 0.3.0
  rotation_grace_hours:
    description:
      - Hours the predecessor of a rotated integration keeps working, counted from the time in its retired name. V(0)
        deactivates and deletes it in the rotating run. When not set, 24.
    type: int
    version_added: 0.3.0
  rotate_authorization_code:
    description:
      - Allow O(rotate_after_days) on an V(authorization_code) integration. Its client id changes, so the applications
        that use it need the new one, and their users may have to consent again.
    type: bool
    default: false
    version_added: 0.3.0
notes:
  - 'Creatio shows a client secret only once. Put C(no_log: true) on tasks that create integrations, or use
    O(client_secret_file), so that the secret does not reach logs.'
  - The C(grant_type) of an integration read back from Creatio (cache lost) is inferred from whether it has a system
    user. See the API assumptions in the collection docs.
  - An C(AddClient) answer that is lost or cannot be read (a gateway's HTML page in its place, a changed body) is
    settled by reading the integration back by name, never by sending C(AddClient) again; the task then fails with
    its client id and says that its secret is lost. An OData answer of the wrong shape, or one that lists the
    integration without a client id, fails the task before any write. See Failure behaviour in the collection docs.
seealso:
  - module: creatio.oauth.creatio_redirect_url
  - module: creatio.oauth.creatio_oauth_client_info
'''

EXAMPLES = r'''
- name: Manage Creatio integrations
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_url: https://mycompany.creatio.com
      creatio_username: "{{ vault_creatio_username }}"
      creatio_password: "{{ vault_creatio_password }}"
  tasks:
    - name: Power BI connector, server to server
      creatio.oauth.creatio_oauth_client:
        name: PowerBI
        grant_type: client_credentials
        application_url: https://app.powerbi.com
        system_user: PowerBIUser   # the technical user's name; or system_user_id: <Id of its user record>
        client_secret_file: /secure/creatio-powerbi.json
      no_log: true

    - name: Outlook add-in, on behalf of users
      creatio.oauth.creatio_oauth_client:
        name: Creatio.ai for Outlook
        grant_type: authorization_code
        application_url: https://outlook.office.com
        redirect_urls:
          - https://addin.creatio.com/outlook/callback
          - https://addin.creatio.com/outlook/silent-callback
      no_log: true

    - name: Deactivate an integration without deleting it
      creatio.oauth.creatio_oauth_client:
        name: PowerBI
        active: false

    - name: Remove an integration
      creatio.oauth.creatio_oauth_client:
        name: Old webhook
        state: absent
'''

RETURN = r'''
client:
  description: The integration after the run (in check mode, as it would be). Empty once absent.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the integration.
      type: str
    client_id:
      description: OAuth client id.
      type: str
      sample: 0123456789abcdef0123456789abcdef
    grant_type:
      description: V(client_credentials) or V(authorization_code).
      type: str
    application_url:
      description: Application URL.
      type: str
    system_user_id:
      description: Id of the user a client credentials integration acts as.
      type: str
    active:
      description: Whether the integration is active.
      type: bool
    redirect_urls:
      description: Authorized redirect URIs with their ids (an id is null when Creatio never told it).
      type: list
      elements: dict
client_secret:
  description:
    - The client secret, returned only by the run that created the integration. Creatio never shows it again.
    - Never with O(secret_store) (the secret went to the store), except when the store failed after the integration was
      created and the secret could not be kept beside the facts cache either (its only copy then).
  returned: when the integration was created in this run
  type: str
creatio_url:
  description: The site the integration is on (with RV(client_secret), for a task that hands the secret on).
  returned: when RV(client_secret) is
  type: str
token_url:
  description:
    - The token endpoint of the identity service, when known without a request (O(creatio_identity_url), or Creatio cloud);
      null otherwise.
  returned: when RV(client_secret) is
  type: str
secret_store:
  description:
    - Where the secret of the integration is, with O(secret_store) (never the secret itself).
    - C(location) names the store and the path (for V(vault_kv2), its address, mount and path), C(changed) says whether
      this run wrote there (in check mode, would write), C(version) is the KV version (V(vault_kv2)) written, and
      C(kept_as) the file an old client's document was moved to (file stores), when there was one.
    - After this run created the integration at the same time as another run and gave way (deleted its own creation,
      adopted the other's), C(gave_way) is true, and C(withdrawn) is the deleted client id whose secret this run had put
      into the store and took back (only while the store still held it).
  returned: with O(secret_store), for an integration that is present
  type: dict
  sample: {"location": "vault_kv2 https://vault.example.com:8200, secret/creatio/mycompany.creatio.com/Webhooks", "changed": true, "version": 1}
operations:
  description:
    - The OAuthConfigService calls this run made (in check mode, would make), in order.
    - C(GetClientSecret) (see O(recover_secret)) reads a secret back; its C(request) holds the C(clientAppId) (the
      Id of the integration's OAuthClientApp row), never the secret.
  returned: always
  type: list
  elements: dict
  sample: [{"call": "AddClient", "summary": "create integration PowerBI (client_credentials)", "request": {}}]
system_user:
  description: The user named by O(system_user) (C(name), C(id), and C(created) when this run created it).
  returned: when O(system_user) was given
  type: dict
unconfirmed_redirect_urls:
  description: The declared redirect URIs that could not be confirmed and were not added (see O(add_unconfirmed_redirect_urls)).
  returned: when there are any
  type: list
  elements: str
site:
  description:
    - What the run found out about the site, as far as it needed to (C(platform) V(netframework) or V(netcore);
      C(redirect_uri_methods) and C(creatio_version), V(8.3 or later) or V(before 8.3), when redirect URIs were involved).
    - Before 8.3 the one redirect URI of an integration is its C(redirectUrl) (AddClient, UpdateClient).
  returned: when anything was found out
  type: dict
source:
  description: Where the module found the integration before acting (V(cache), V(server), V(cache+server), V(none), V(given)).
  returned: always
  type: str
compared:
  description:
    - The declared fields the run compared with what the site holds, read in this run (V(grant_type), V(application_url),
      V(system_user_id), V(active), V(redirect_urls) where the site lists them; V(state) for an integration that does not
      exist or is declared absent).
  returned: always
  type: list
  elements: str
  version_added: 0.3.0
not_compared:
  description:
    - The declared fields the run could not compare with the site (the site does not list the redirect URIs, or only the
      facts cache answered, with O(verify=false) or when the site refuses the OData read).
  returned: always
  type: list
  elements: str
  version_added: 0.3.0
same_name:
  description:
    - The client ids of every integration Creatio has with this name, when it has more than one (made by hand, say), with a
      warning. The run works on the oldest, or on the one the facts cache knows.
  returned: when Creatio has more than one integration of the name
  type: list
  elements: str
  version_added: 0.3.0
rotation:
  description:
    - With O(rotate_after_days), what the run found and did (in check mode, would do). C(rotate_after_days); C(created_on),
      C(age_days) and C(next_rotation) of the integration that carries the name (UTC); C(due) (null with C(decided=false)
      when the age cannot be told); C(reason); C(rotated) and C(predecessor) (its client id) when it rotated;
      C(would_rotate) in check mode; C(waiting) when a due rotation waits for a retiring predecessor; C(retiring), the
      predecessors still in their grace period (C(name), C(client_id), C(retired_at), C(deactivate_after), C(active));
      C(rolled_back), the client id of a predecessor whose unfinished rotation was rolled back; C(gave_way_to), the
      client id of another run's successor this run adopted (it rotated the integration at the same time, and the
      secret store holds that successor; this run deleted its own).
  returned: with O(rotate_after_days)
  type: dict
  version_added: 0.3.0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._connection import connection_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._integrations import apply_one, client_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module
from ansible_collections.creatio.oauth.plugins.module_utils._secret_delivery import with_secret_store
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import secret_store_argspec


def argument_spec():
    spec = connection_argspec(verify=True)
    spec.update(client_argspec())
    spec['secret_store'] = secret_store_argspec()
    return spec


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), with_secret_store(apply_one))


if __name__ == '__main__':
    main()
