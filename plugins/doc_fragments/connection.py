# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options shared by every module. plugins/module_utils/connection.py holds the
    # matching argument spec; tests/unit/plugins/module_utils/test_connection_docs.py fails when
    # the two drift apart.
    DOCUMENTATION = r'''
options:
  creatio_url:
    description:
      - Root URL of the Creatio site, for example V(https://mycompany.creatio.com), or
        V(https://host/CreatioApp) for an on-site install under a virtual directory (the path is kept).
      - Never a URL under C(/0/); the collection adds the API paths itself.
      - Falls back to the E(CREATIO_URL) environment variable.
    type: str
    required: true
  creatio_username:
    description:
      - User name for forms authentication. Give it with O(creatio_password), or use
        O(creatio_client_id) and O(creatio_client_secret) instead (exactly one login method).
      - The user needs the C(CanManageSolution) system operation (an administrator).
      - Falls back to the E(CREATIO_USERNAME) environment variable.
    type: str
  creatio_password:
    description:
      - Password for forms authentication. Never logged, never written to the facts cache.
      - Falls back to the E(CREATIO_PASSWORD) environment variable.
    type: str
  creatio_client_id:
    description:
      - Client id of a client credentials integration to log in with OAuth 2.0 instead of a password.
      - Falls back to the E(CREATIO_CLIENT_ID) environment variable.
    type: str
  creatio_client_secret:
    description:
      - Client secret that goes with O(creatio_client_id). Never logged.
      - Falls back to the E(CREATIO_CLIENT_SECRET) environment variable.
    type: str
  creatio_identity_url:
    description:
      - URL of the Creatio identity service (the C(OAuth20IdentityServerUrl) system setting), used with
        O(creatio_client_id) to get an access token from C(<creatio_identity_url>/connect/token).
      - When not set, the collection reads the token endpoint from the site's OpenID configuration
        (C(.well-known/openid-configuration), published by Creatio 8.3 and later; one anonymous request, only when a
        token URL is needed). When the site publishes none, on Creatio cloud it takes the site host with C(-is) after
        its first label (C(123-crm.creatio.com) becomes C(123-crm-is.creatio.com)); elsewhere it must be set.
      - Falls back to the E(CREATIO_IDENTITY_URL) environment variable.
    type: str
  creatio_platform:
    description:
      - Where the site's API lives. V(netframework) (Windows installs and the usual cloud site) has it under C(/0)
        (C(<creatio_url>/0/rest/...), C(<creatio_url>/0/odata/...)); V(netcore) (on-site .NET Core / .NET 6+ installs)
        at the site root (C(<creatio_url>/rest/...)). The login is at the site root on both.
      - V(auto) finds it out. On a site the facts cache has not met that costs at most one extra request (the API
        under C(/0) first, then at the root); the answer is kept in the facts cache, and found again when the kept
        one stops answering.
      - Falls back to the E(CREATIO_PLATFORM) environment variable.
    type: str
    choices: [auto, netframework, netcore]
    default: auto
  validate_certs:
    description:
      - Verify the TLS certificate of Creatio and of its identity service.
      - Set to V(false) only for test sites with self-signed certificates; prefer O(ca_path).
      - Falls back to the E(CREATIO_VALIDATE_CERTS) environment variable.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for Creatio, instead of the system bundle.
      - Falls back to the E(CREATIO_CA_PATH) environment variable.
    type: path
  request_timeout:
    description:
      - Seconds to wait for each answer from Creatio, body included (an answer that trickles in slower fails).
      - Falls back to the E(CREATIO_REQUEST_TIMEOUT) environment variable.
    type: float
    default: 30
  cache_path:
    description:
      - Path of the local facts cache, where the collection keeps what it knows about each Creatio site
        (integrations by name, client ids, redirect URI ids). It never holds a password, secret, cookie or token.
      - Each site has its own JSON file in the folder beside it named after it (C(facts.sites/) for
        C(facts.json)). A single C(facts.json) of an earlier version is moved there by the first run that may
        write, and kept as C(facts.json.migrated).
      - Defaults to C(~/.ansible/creatio_oauth/facts.json) of the user running the module.
      - Its folder must exist or be creatable (its parent must exist).
      - Falls back to the E(CREATIO_CACHE_PATH) environment variable.
    type: path
  reuse_session:
    description:
      - Reuse one Creatio login (session cookies or access token) across the tasks of a run, through a
        session file beside the facts cache (mode 0600, never holding the password or client secret).
      - Set to V(false) to log in in every task and write no session file.
      - Falls back to the E(CREATIO_REUSE_SESSION) environment variable.
    type: bool
    default: true
requirements:
  - requests
notes:
  - 'All modules of this collection are in the action group C(creatio.oauth.creatio), so the connection options
    can be set once with C(module_defaults: {group/creatio.oauth.creatio: {...}}).'
  - Precedence is task argument, then C(module_defaults), then the environment variable.
'''

    # The "verify" option of the modules that change integrations (connection.VERIFY_ARGSPEC).
    VERIFY = r'''
options:
  verify:
    description:
      - Confirm what the facts cache says against Creatio (one OData read) before deciding.
      - With V(false), an integration found in the cache is trusted as it is and a run with nothing to do sends
        no request at all. Faster, but changes made in Creatio outside this collection (a deleted integration, an
        edited URL) go unnoticed until a run with V(true).
      - Integrations missing from the cache are always looked up in Creatio.
    type: bool
    default: true
'''
