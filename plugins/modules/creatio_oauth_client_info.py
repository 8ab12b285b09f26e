#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_oauth_client_info
short_description: List the OAuth 2.0 integrations of a Creatio site
version_added: 0.1.0
description:
  - Lists the OAuth 2.0 integrations of a Creatio site, or one of them by O(name).
  - Starts from the local facts cache and confirms and completes it from Creatio (OData C(OAuthClientApp)) when the
    site lets the user read it. Each integration says where it came from in RV(clients[].source).
  - Never returns a client secret (Creatio never shows one again after creation). Never writes anything.
  - RV(integrations) is the same list as code, in the shape of the C(creatio_integrations) items of the
    C(creatio.oauth.integrations) role, ready to apply to another site (the C(creatio.oauth.export) playbook writes it
    to a YAML file).
author:
  - creatio.oauth contributors (@creatio-oauth)
extends_documentation_fragment:
  - creatio.oauth.connection
  - creatio.oauth.attributes
  - creatio.oauth.attributes.read_only
options:
  name:
    description:
      - Only the integration with this name.
    type: str
seealso:
  - module: creatio.oauth.creatio_oauth_client
'''

EXAMPLES = r'''
- name: Audit the integrations of a site
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_url: https://mycompany.creatio.com
      creatio_username: "{{ vault_creatio_username }}"
      creatio_password: "{{ vault_creatio_password }}"
  tasks:
    - name: Read every integration
      creatio.oauth.creatio_oauth_client_info:
      register: integrations

    - name: Show the inactive ones
      ansible.builtin.debug:
        msg: "{{ integrations.clients | rejectattr('active') | map(attribute='name') | list }}"

    # integrations_yaml, not integrations through to_nice_yaml: its texts that could be read as templates
    # are tagged !unsafe, so that applying the file (-e @file, host_vars) never runs what a site holds.
    - name: Keep the site as code, for the integrations role
      ansible.builtin.copy:
        content: "{{ integrations.integrations_yaml }}"
        dest: "{{ 'integrations-of-mycompany.yml' | creatio.oauth.controller_path }}"
        mode: '0600'
'''

RETURN = r'''
clients:
  description: The integrations, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the integration.
      type: str
    client_id:
      description: OAuth client id.
      type: str
    grant_type:
      description: V(client_credentials) or V(authorization_code) (inferred from the system user when only Creatio knows it).
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
      description:
        - Redirect URIs with their ids, as far as the collection knows them. For an integration on the site, the ones
          Creatio lists where it lets them be read (its redirect-URI entity, read at once for all; the C(RedirectUrl)
          column before Creatio 8.3), over the facts cache's list, with a warning when they differ; the facts cache's
          otherwise.
      type: list
      elements: dict
    source:
      description:
        - V(cache+server) known to the cache and confirmed by Creatio; V(server) only in Creatio;
          V(cache) only in the cache because Creatio could not be read; V(cache-only) in the cache but no longer in Creatio.
      type: str
    confirmed_at:
      description:
        - When the cache last confirmed the integration (UTC), if it knows it.
        - 'While nothing changes it is refreshed at most once an hour, so that re-runs write nothing: it is true to within an hour.'
      type: str
odata_readable:
  description: Whether Creatio let the user read the integrations through OData.
  returned: always
  type: bool
integrations_yaml:
  description:
    - RV(integrations) as the text of a YAML variables file (C(creatio_integrations), with a comment naming the site),
      as the C(creatio.oauth.export) playbook writes it.
    - Every text that could be read as a template (one with C({) or C(#)) is tagged C(!unsafe), so that Ansible reads it
      back as the same text when the file is applied (C(-e @file), C(host_vars), C(include_vars)), and never runs what
      a site holds, such as an integration named C({{ lookup('ansible.builtin.pipe', ...) }}). Write this value, not
      RV(integrations) through C(to_nice_yaml), to keep a site's integrations in a file.
  returned: always
  type: str
  version_added: 0.3.0
integrations:
  description:
    - The integrations of the site (those in Creatio, not the ones only the cache remembers), as items of the
      C(creatio_integrations) list of the C(creatio.oauth.integrations) role, sorted by name. Applied to another site
      with the role, they make the same integrations there.
    - Each item has C(name) and C(preset). The preset is recognised from the grant type and the application URL when
      they are those of a preset that gives a default application URL (V(powerbi), V(clio), V(outlook_addin)); the
      default is then left out. Anything else is V(custom), with C(grant_type) and C(application_url).
    - For a client credentials integration, C(system_user) (the user's name) where the site lets its users be read
      (OData C(SysAdminUnit)) and no other user has that name; C(system_user_id) otherwise (user ids differ from site
      to site, names need not).
    - C(redirect_urls) for an authorization code integration, as in RV(clients) (the site's where it lists them, else
      the facts cache's); a warning names an integration whose
      redirect URIs cannot be known (add them before applying the list). C(active) only when it is V(false).
    - Of several integrations with one name (Creatio allows it), the one a run takes (the oldest) is exported, with a
      warning.
    - Before Creatio 8.3 (no grant types, every integration acts as a system user and keeps one redirect URI in its
      C(RedirectUrl)), an integration with a redirect URI is exported as V(authorization_code) with its system user and
      that C(redirect_urls), the form that makes it again on such a site.
    - A problem that many integrations share (redirect URIs that cannot be known, no application URL, names used more
      than once) is one warning, with the count and the first few names.
    - Never a client id or a secret.
  returned: always
  type: list
  elements: dict
  sample:
    - name: Power BI Connector
      preset: powerbi
      system_user: PowerBIUser
    - name: Order webhooks
      preset: custom
      grant_type: client_credentials
      application_url: https://hooks.example.com
      system_user: WebhookUser
      active: false
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._connection import connection_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._integrations import list_clients
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module


def argument_spec():
    spec = connection_argspec()
    spec.update(name=dict(type='str'))
    return spec


def main():
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), list_clients)


if __name__ == '__main__':
    main()
