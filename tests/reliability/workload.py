# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload the fault matrix runs: one playbook that calls every OAuthConfigService method once
from an empty site, and whose declared end state is fixed (so a recovery run must converge to it).

Order of the calls on a fresh site (forms login; an OAuth login has Token instead of Login):

    W1 Login, OData, AddClient                      (Rel CC, client_credentials)
    W2 OData, AddClient, AddRedirectUrls            (Rel Code's app: a quote in the name, two URIs)
    W3 OData, AddClient, AddRedirectUrls            (Rel Tmp: created to be changed and deleted)
    W4 OData, UpdateRedirectUrl                     (Rel Tmp: y -> y2, by id)
    W5 OData, DeleteRedirectUrl                     (Rel Tmp: y2 removed)
    W6 OData, UpdateClient                          (Rel CC deactivated)
    W7 OData, DeleteClient                          (Rel Tmp deleted)

So the first request to every endpoint is in a known task, and a fault with ``count`` 1 (or a
trigger without ``skip``) always lands on that first request.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import reliability_lib as lib  # pylint: disable=import-error

CC = 'Rel CC'
CODE = "Rel Code's app"
TMP = 'Rel Tmp'
CODE_URLS = ['https://code.example.com/a', 'https://code.example.com/b']
TMP_URLS = ['https://tmp.example.com/x', 'https://tmp.example.com/y']
TMP_Y2 = 'https://tmp.example.com/y2'

# The task in which the first request to each endpoint happens.
FIRST_TASK = {
    'Login': 'W1', 'Token': 'W1', 'OData': 'W1', 'AddClient': 'W1', 'AddRedirectUrls': 'W2',
    'UpdateRedirectUrl': 'W4', 'DeleteRedirectUrl': 'W5', 'UpdateClient': 'W6', 'DeleteClient': 'W7',
}

PLAYBOOK = """
- name: Reliability workload
  hosts: localhost
  gather_facts: false
  tasks:
    - name: W1 create a client credentials integration
      creatio.oauth.creatio_oauth_client:
        name: "{cc}"
        grant_type: client_credentials
        application_url: https://cc.example.com
        system_user_id: "{{{{ cc_user | default('{powerbi}') }}}}"

    - name: W2 create an authorization code integration with two redirect URIs
      creatio.oauth.creatio_oauth_client:
        name: "{code}"
        grant_type: authorization_code
        application_url: https://code.example.com
        redirect_urls: {code_urls}

    - name: W3 create a short-lived integration
      creatio.oauth.creatio_oauth_client:
        name: "{tmp}"
        grant_type: authorization_code
        application_url: https://tmp.example.com
        redirect_urls: {tmp_urls}
      register: w3

    - name: W4 change one redirect URI by id
      creatio.oauth.creatio_redirect_url:
        client_name: "{tmp}"
        redirect_url_id: "{{{{ w3.client.redirect_urls | selectattr('url', 'equalto', '{tmp_y}') | map(attribute='id') | first }}}}"
        redirect_url: "{tmp_y2}"

    - name: W5 remove that redirect URI
      creatio.oauth.creatio_redirect_url:
        client_name: "{tmp}"
        redirect_urls:
          - "{tmp_y2}"
        state: absent

    - name: W6 deactivate the client credentials integration
      creatio.oauth.creatio_oauth_client:
        name: "{cc}"
        active: false

    - name: W7 delete the short-lived integration
      creatio.oauth.creatio_oauth_client:
        name: "{tmp}"
        state: absent
""".format(cc=CC, code=CODE, tmp=TMP, code_urls=CODE_URLS, tmp_urls=TMP_URLS, tmp_y=TMP_URLS[1],
           tmp_y2=TMP_Y2, powerbi=lib.POWERBI_USER_ID)

DECLARED = {
    CC: {'grant_type': 'client_credentials', 'application_url': 'https://cc.example.com',
         'system_user_id': lib.POWERBI_USER_ID, 'active': False, 'redirect_urls': []},
    CODE: {'grant_type': 'authorization_code', 'application_url': 'https://code.example.com',
           'system_user_id': None, 'active': True, 'redirect_urls': CODE_URLS},
}
TASKS = ('W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7')


def playbook(last='W7'):
    """The workload up to task ``last`` (a fault on an endpoint needs only the tasks up to the one
    that first calls it: shorter runs, same coverage)."""
    keep = TASKS[:TASKS.index(last) + 1]
    header, _sep, body = PLAYBOOK.partition('  tasks:\n')
    tasks = ['    - name: ' + chunk for chunk in body.split('    - name: ') if chunk.strip()]
    kept = [t if t.endswith('\n\n') else t + '\n' for t in tasks if task_of(t.split('- name: ', 1)[1]) in keep]
    return header + '  tasks:\n' + ''.join(kept)


def declared(last='W7'):
    """The end state the workload up to ``last`` declares."""
    done = TASKS[:TASKS.index(last) + 1]
    state = {CC: dict(DECLARED[CC], active=False if 'W6' in done else True)}
    if 'W2' in done:
        state[CODE] = dict(DECLARED[CODE])
    if 'W3' in done and 'W7' not in done:
        urls = [TMP_URLS[0], TMP_Y2 if 'W4' in done else TMP_URLS[1]]
        if 'W5' in done:
            urls = [TMP_URLS[0]]
        state[TMP] = {'grant_type': 'authorization_code', 'application_url': 'https://tmp.example.com',
                      'system_user_id': None, 'active': True, 'redirect_urls': urls}
    return state


def task_of(name):
    """'W3' from 'W3 create a short-lived integration'."""
    return (name or '').split(' ', 1)[0]
