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
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode the token request is not sent; RV(checked) is V(false) and the result says so.
      - The options are still validated, so a token URL that cannot be worked out fails in check mode too.
  diff_mode:
    support: N/A
  platform:
    platforms: posix
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: full
    membership:
      - creatio.oauth.creatio
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
- name: Create the Power BI integration and keep its secret in a file
  creatio.oauth.creatio_oauth_client:
    name: PowerBI
    grant_type: client_credentials
    application_url: https://app.powerbi.com
    system_user_id: 6f1c0b1e-7a5d-4a43-9d0b-2c1e0a9b8f01
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

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.creatio.oauth.plugins.module_utils import api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import engine
from ansible_collections.creatio.oauth.plugins.module_utils.connection import (
    check_ca_path, connection_argspec, identity_base_url, normalize_site_url)
from ansible_collections.creatio.oauth.plugins.module_utils.errors import (
    AuthenticationError, ConfigurationError, CreatioError, HttpError, TransportError)


def argument_spec():
    spec = connection_argspec()
    spec.update(
        client_id=dict(type='str', required=True),
        client_secret=dict(type='str', required=True, no_log=True),
        name=dict(type='str'),
    )
    return spec


def identity_base(params):
    """The identity service root for the token request; raises before any request when unknown."""
    site = normalize_site_url(params['creatio_url'])
    base = identity_base_url(params, site)
    if not base:
        raise ConfigurationError(
            'the token URL is unknown: creatio_identity_url is not set and %s is not a Creatio cloud site' % site,
            option='creatio_identity_url',
            hint='set creatio_identity_url (or CREATIO_IDENTITY_URL) to the OAuth20IdentityServerUrl system setting')
    return base


def explain(exc, who, token_url):
    """The error of a failed token request, reworded to say what it means for the check."""
    prefix = 'No access token was issued to %s by %s' % (who, token_url)
    if isinstance(exc, AuthenticationError):
        exc.message = '%s: the identity service refused the client' % prefix
        exc.hint = ('the client secret does not match, or the integration is inactive, deleted, or not a '
                    'client_credentials integration')
    elif isinstance(exc, HttpError) and exc.status is not None and exc.status >= 500:
        exc.message = '%s: the identity service is unavailable (it answered HTTP %s)' % (prefix, exc.status)
        exc.hint = 'the Creatio identity service must be running and reachable; try again once it is back'
    elif isinstance(exc, TransportError):
        exc.message = '%s: the identity service cannot be reached (%s)' % (prefix, exc.message)
    else:
        exc.message = '%s: %s' % (prefix, exc.message)
    return exc


def check_token(module):
    params = module.params
    client_id = params['client_id'].strip()
    if not client_id:
        raise ConfigurationError('client_id is empty', option='client_id')
    if not params['client_secret']:
        raise ConfigurationError('client_secret is empty', option='client_secret')
    check_ca_path(params)
    base = identity_base(params)
    token_url = base + api.TOKEN_PATH
    result = {'changed': False, 'client_id': client_id, 'token_url': token_url, 'checked': False}
    if module.check_mode:
        result['msg'] = 'check mode: the token request was not sent'
        return result

    # Imported here: a run that fails validation, or runs in check mode, never pays for importing requests.
    from ansible_collections.creatio.oauth.plugins.module_utils.transport import (
        HAS_REQUESTS, REQUESTS_IMPORT_ERROR, HttpTransport)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    from ansible_collections.creatio.oauth.plugins.module_utils.auth import ClientCredentialsLogin

    who = 'integration %s (client id %s)' % (params['name'], client_id) if params['name'] else 'client id %s' % client_id
    login = ClientCredentialsLogin(base, client_id, params['client_secret'])
    transport = HttpTransport(timeout=params.get('request_timeout') or 30,
                              validate_certs=params.get('validate_certs', True), ca_path=params.get('ca_path'))
    try:
        login.login(transport)
    except CreatioError as exc:
        raise explain(exc, who, token_url)
    finally:
        transport.close()
    result['checked'] = True
    result['expires_in'] = max(0, int(round(login.expires_at - time.time())))
    result['msg'] = 'the identity service issued an access token to %s' % who
    login.invalidate()  # the token is not needed: drop it
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = check_token(module)
    except CreatioError as exc:
        if module.params['client_secret']:
            exc.redact([module.params['client_secret']])
        engine.fail_from_error(module, exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
