#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_redirect_url
short_description: Manage the authorized redirect URIs of a Creatio authorization code integration
version_added: 0.1.0
description:
  - Makes redirect URIs authorized (or not) for one V(authorization_code) OAuth 2.0 integration of Creatio, through
    C(AddRedirectUrls), C(UpdateRedirectUrl) and C(DeleteRedirectUrl), idempotently.
  - Missing URIs are added in one C(AddRedirectUrls) call, and the ids Creatio returns are kept in the local facts
    cache, shared with M(creatio.oauth.creatio_oauth_client).
  - 'Creatio has no API that lists the redirect URIs of an integration. Removing a URI by value therefore needs its id
    from the cache (URIs this collection added). For other URIs, give O(redirect_url_id): the Id column of
    "Authorized redirect URIs" on the integration page.'
  - Use this module when several plays or roles each add their own URIs to one integration. When one playbook owns
    the whole list, use O(creatio.oauth.creatio_oauth_client#module:redirect_urls) instead.
author:
  - creatio.oauth contributors (@creatio-oauth)
extends_documentation_fragment:
  - creatio.oauth.connection
  - creatio.oauth.connection.verify
  - creatio.oauth.attributes
  - creatio.oauth.attributes.changes
  - creatio.oauth.redirect_urls
attributes:
  check_mode:
    details:
      - Never writes to Creatio or to the facts cache. Deleting by an id that the cache does not know is reported as a
        change, because only Creatio can tell whether that id still exists.
  diff_mode:
    details:
      - The diff shows the redirect URIs before and after.
options:
  client_name:
    description:
      - Name of the integration (looked up in the facts cache, then in Creatio). Exactly one of O(client_name) and
        O(client_id).
    type: str
  client_id:
    description:
      - Client id of the integration. Exactly one of O(client_name) and O(client_id).
    type: str
  redirect_urls:
    description:
      - The redirect URIs to authorize (O(state=present)) or to remove (O(state=absent)).
      - Absolute, with a scheme (V(https), V(http) to a loopback host only (V(127.0.0.1), V([::1]), V(localhost)), or a
        private-use scheme such as V(com.example.app:/callback)), no fragment. With O(state=absent) any URI Creatio
        holds may be removed, also a plain V(http) one. Compared after normalisation (scheme and host lower-case), in any order; duplicates collapse.
      - Not with O(redirect_url_id).
    type: list
    elements: str
  state:
    description:
      - V(present) every listed URI is authorized; V(absent) none of them is.
      - With O(redirect_url_id), V(present) sets that URI to O(redirect_url) and V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=present) and O(redirect_urls), also remove the authorized URIs that are not listed (those whose
        ids the cache knows; the module fails, changing nothing, if one of them has no known id).
    type: bool
    default: false
  redirect_url_id:
    description:
      - Id of one redirect URI (the Id column of "Authorized redirect URIs" in Creatio, or RV(redirect_urls[].id)).
      - With O(redirect_url), sets that URI to this value (C(UpdateRedirectUrl)); with O(state=absent), removes it.
    type: str
  redirect_url:
    description:
      - The new value of the URI O(redirect_url_id) names, by the rules of O(redirect_urls) (plain V(http) only to a
        loopback host).
    type: str
seealso:
  - module: creatio.oauth.creatio_oauth_client
'''

EXAMPLES = r'''
- name: Redirect URIs owned by different roles
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/creatio.oauth.creatio:
      creatio_url: https://mycompany.creatio.com
      creatio_client_id: "{{ vault_creatio_client_id }}"
      creatio_client_secret: "{{ vault_creatio_client_secret }}"
  tasks:
    - name: The staging add-in also signs in through this integration
      creatio.oauth.creatio_redirect_url:
        client_name: Creatio.ai for Outlook
        redirect_urls:
          - https://staging.addin.example.com/callback

    - name: Remove a URI that was added by hand (id from the integration page)
      creatio.oauth.creatio_redirect_url:
        client_name: Creatio.ai for Outlook
        redirect_url_id: 9b2f4c3e-1a2b-4c5d-8e9f-0a1b2c3d4e5f
        state: absent

    - name: Move one URI to a new host
      creatio.oauth.creatio_redirect_url:
        client_name: Creatio.ai for Outlook
        redirect_url_id: 0c4e1f22-3b5a-4d6c-9e7f-1a2b3c4d5e6f
        redirect_url: https://addin.example.com/v2/callback
'''

RETURN = r'''
unconfirmed_redirect_urls:
  description: The listed redirect URIs that could not be confirmed and were not added (see O(add_unconfirmed_redirect_urls)).
  returned: when there are any
  type: list
  elements: str
redirect_urls:
  description: The authorized redirect URIs the collection knows for the integration after the run, with their ids.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Id of the redirect URI in Creatio (null when Creatio never told it).
      type: str
    url:
      description: The URI.
      type: str
added:
  description: URIs added by this run.
  returned: always
  type: list
  elements: str
removed:
  description: Ids of the URIs removed by this run.
  returned: always
  type: list
  elements: str
updated:
  description: Ids of the URIs changed by this run.
  returned: always
  type: list
  elements: str
client:
  description: The integration the URIs belong to.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the integration.
      type: str
    client_id:
      description: Client id of the integration.
      type: str
operations:
  description: The OAuthConfigService calls this run made (in check mode, would make), in order.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._connection import connection_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._redirect_urls import apply, argspec
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module


def argument_spec():
    spec = connection_argspec(verify=True)
    spec.update(argspec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[('client_name', 'client_id')], required_one_of=[('client_name', 'client_id')])
    run_module(module, apply)


if __name__ == '__main__':
    main()
