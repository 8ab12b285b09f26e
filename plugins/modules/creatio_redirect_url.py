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
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Never writes to Creatio or to the facts cache. Deleting by an id that the cache does not know is reported as a
        change, because only Creatio can tell whether that id still exists.
  diff_mode:
    support: full
  platform:
    platforms: posix
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: full
    membership:
      - creatio.oauth.creatio
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
      - Absolute, with a scheme (V(https), V(http), or a private-use scheme such as V(com.example.app:/callback)), no
        fragment. Compared after normalisation (scheme and host lower-case), in any order; duplicates collapse.
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
      - The new value of the URI O(redirect_url_id) names.
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

from ansible_collections.creatio.oauth.plugins.module_utils import engine, normalize, planner
from ansible_collections.creatio.oauth.plugins.module_utils.connection import connection_argspec, verify_argspec
from ansible_collections.creatio.oauth.plugins.module_utils.errors import ConfigurationError


def argument_spec():
    spec = connection_argspec()
    spec.update(verify_argspec())
    spec.update(
        client_name=dict(type='str'),
        client_id=dict(type='str'),
        redirect_urls=dict(type='list', elements='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        purge=dict(type='bool', default=False),
        redirect_url_id=dict(type='str'),
        redirect_url=dict(type='str'),
    )
    return spec


def request_of(params):
    """The validated request; raises before any request is sent."""
    absent = params['state'] == 'absent'
    request = {
        'client_name': normalize.name(params['client_name'], 'client_name') if params['client_name'] is not None else None,
        'client_id': normalize.client_id(params['client_id']),
        'absent': absent,
        'purge': params['purge'],
        'url_id': normalize.guid(params['redirect_url_id'], 'redirect_url_id'),
        'url': None,
        'urls': None,
    }
    if request['url_id']:
        if params['redirect_urls'] is not None:
            raise ConfigurationError('redirect_urls cannot be combined with redirect_url_id', option='redirect_urls',
                                     hint='use redirect_urls to manage URIs by value, or redirect_url_id for one URI by id')
        if params['redirect_url'] is None and not absent:
            raise ConfigurationError('redirect_url_id with state: present needs redirect_url (the new value)', option='redirect_url',
                                     hint='or set state: absent to remove that URI')
        if params['redirect_url'] is not None and absent:
            raise ConfigurationError('redirect_url is not used with state: absent', option='redirect_url',
                                     hint='remove redirect_url: state absent removes the URI whose id is redirect_url_id')
        if params['redirect_url'] is not None:
            request['url'] = normalize.url(params['redirect_url'], 'redirect_url', allow_private_scheme=True)
        return request
    if params['redirect_url'] is not None:
        raise ConfigurationError('redirect_url needs redirect_url_id (the id of the URI to change)', option='redirect_url',
                                 hint='to add a URI, list it in redirect_urls')
    if not params['redirect_urls']:
        raise ConfigurationError('redirect_urls (a non-empty list) or redirect_url_id is required', option='redirect_urls')
    if params['purge'] and absent:
        raise ConfigurationError('purge only applies with state: present', option='purge')
    request['urls'] = normalize.redirect_urls(params['redirect_urls'])
    return request


def find_integration(run, request, verify):
    """(name, record, confirmed) of the integration the URIs belong to; fails when it does not
    exist. ``confirmed`` says Creatio was read (so the cache entry can be refreshed)."""
    name, client_id = request['client_name'], request['client_id']
    if client_id:
        cached = [(n, r) for n, r in run.cache.clients(run.site).items() if r.get('client_id') == client_id]
        if cached:
            name = cached[0][0]
    if name:
        early = run.cache.get(run.site, name)
        if early:
            # Known from the cache: refuse a client_credentials integration before any request.
            planner.require_authorization_code(name, early)
        found = engine.lookup(run, name, verify=verify)
        if found.record is None or found.recreate:
            raise ConfigurationError('integration %r does not exist on %s' % (name, run.site), option='client_name',
                                     hint='create it first with creatio.oauth.creatio_oauth_client')
        return name, found.record, 'server' in found.source
    rows = run.server_records(client_ids=[client_id])
    if rows is None:
        raise ConfigurationError('client_id %s is not in the facts cache, and this site does not allow reading integrations '
                                 'through OData' % client_id, option='client_id', hint='use client_name, or manage the '
                                 'integration with creatio.oauth.creatio_oauth_client first')
    match = [r for r in rows if r['client_id'] == client_id]
    if not match:
        raise ConfigurationError('no integration with client_id %s exists on %s' % (client_id, run.site), option='client_id')
    return match[0]['name'], dict(match[0]), True


def handle(run):
    request = request_of(run.params)
    lock_key = request['client_name'] or request['client_id']
    with run.name_lock(lock_key):
        name, record, confirmed = find_integration(run, request, run.params['verify'])
        planner.require_authorization_code(name, record)
        if request['urls'] is not None and not request['absent']:
            record = engine.adopt_redirect_urls(run, record, request['urls'])
        if confirmed:
            run.remember(name, record)
        before_rows = normalize.url_rows(record.get('redirect_urls'))
        if request['url_id']:
            operations = planner.plan_redirect_url_by_id(name, record, request['url_id'], url=request['url'],
                                                         absent=request['absent'])
        else:
            operations = planner.plan_redirect_urls(name, record, request['urls'], purge=request['purge'],
                                                    absent=request['absent'])
        outcome = engine.execute(run, name, planner.Plan(operations), record)
    after_rows = normalize.url_rows((outcome.record or {}).get('redirect_urls'))
    result = {
        'changed': bool(outcome.done),
        'client': {'name': name, 'client_id': record.get('client_id')},
        'redirect_urls': after_rows,
        'added': [u for op in outcome.done if op['call'] == 'AddRedirectUrls' for u in op['request']['redirectUrls']],
        'removed': [op['request']['redirectUrlId'] for op in outcome.done if op['call'] == 'DeleteRedirectUrl'],
        'updated': [op['request']['redirectUrlId'] for op in outcome.done if op['call'] == 'UpdateRedirectUrl'],
        'operations': outcome.done,
    }
    if run.module._diff:
        result['diff'] = {'before': {'redirect_urls': [r['url'] for r in before_rows]},
                          'after': {'redirect_urls': [r['url'] for r in after_rows]}}
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('client_name', 'client_id')],
        required_one_of=[('client_name', 'client_id')],
        supports_check_mode=True,
    )
    engine.run_module(module, handle)


if __name__ == '__main__':
    main()
