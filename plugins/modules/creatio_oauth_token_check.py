#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: creatio_oauth_token_check
short_description: Check that Creatio's identity service issues a token to a client credentials integration
version_added: 0.1.0
description:
  - Asks the Creatio identity service for an OAuth 2.0 access token with the client id and client secret of a
    client credentials integration, the check a person would otherwise do by hand after creating one.
  - Succeeds when a token is issued. Fails, saying why, when none is issued. The identity service may have
    refused the client, answered with an error (for example because it is down), or not been reachable.
  - The token is thrown away at once. It is never returned, and neither is the secret.
  - Sends nothing to Creatio itself and never changes anything.
author:
  - creatio.oauth contributors (@creatio-oauth)
extends_documentation_fragment:
  - creatio.oauth.connection
  - creatio.oauth.attributes
  - creatio.oauth.attributes.read_only
attributes:
  check_mode:
    details:
      - In check mode the token request is not sent; RV(checked) is V(false) and the result says so.
      - The options are still validated, so a token URL that cannot be worked out fails in check mode too.
options:
  client_id:
    description:
      - Client id of the integration to check.
    type: str
    required: true
  client_secret:
    description:
      - Client secret of the integration to check. Never logged and never returned.
    type: str
    required: true
  name:
    description:
      - Name of the integration, only used to make messages easier to read.
    type: str
notes:
  - The token is requested from C(<creatio_identity_url>/connect/token). Without O(creatio_identity_url), the URL
    is derived from O(creatio_url) on Creatio cloud; elsewhere the module fails before sending anything.
  - The login options (O(creatio_username), O(creatio_password), O(creatio_client_id), O(creatio_client_secret))
    and O(cache_path) and O(reuse_session) are accepted so that this module can share C(module_defaults) with
    the other modules of the collection. It does not use them and does not log in to Creatio.
  - Only a V(client_credentials) integration that is active gets a token this way.
seealso:
  - module: creatio.oauth.creatio_oauth_client
'''

EXAMPLES = r'''
- name: Create the Power BI integration (the result of the run that creates it carries its secret)
  creatio.oauth.creatio_oauth_client:
    name: PowerBI
    grant_type: client_credentials
    application_url: https://app.powerbi.com
    system_user: PowerBIUser
  register: powerbi
  no_log: true

- name: Check that the identity service issues it a token
  creatio.oauth.creatio_oauth_token_check:
    name: PowerBI
    client_id: "{{ powerbi.client.client_id }}"
    client_secret: "{{ powerbi.client_secret }}"
  when: powerbi.client_secret is defined
  no_log: true
'''

RETURN = r'''
checked:
  description: Whether the token request was sent (V(false) in check mode).
  returned: always
  type: bool
client_id:
  description: The client id that was checked.
  returned: always
  type: str
  sample: 0123456789abcdef0123456789abcdef
token_url:
  description: The token endpoint of the identity service.
  returned: always
  type: str
  sample: https://mycompany-is.creatio.com/connect/token
expires_in:
  description: Seconds the issued token is valid for, as the identity service said.
  returned: when a token was issued
  type: int
  sample: 3600
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils._connection import connection_argspec
from ansible_collections.creatio.oauth.plugins.module_utils._identity import token_check
from ansible_collections.creatio.oauth.plugins.module_utils._run import run_module


def argument_spec():
    spec = connection_argspec()
    spec.update(
        client_id=dict(type='str', required=True),
        client_secret=dict(type='str', required=True, no_log=True),
        name=dict(type='str'),
    )
    return spec


def main():
    # Logs in nowhere and keeps no facts: the login and cache options are accepted for module_defaults only.
    run_module(AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True), token_check, login=False, cache=False)


if __name__ == '__main__':
    main()
