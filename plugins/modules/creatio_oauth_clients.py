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
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads (OData) but never writes to Creatio, and never changes the facts cache.
  diff_mode:
    support: full
    details:
      - One diff per changed integration, headed by its name; it never contains a secret.
  platform:
    platforms: posix
  action_group:
    description: Action is part of action_group(s), for convenient setting of module_defaults.
    support: full
    membership:
      - creatio.oauth.creatio
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
          - Id (GUID) of the user a V(client_credentials) integration acts as.
        type: str
      redirect_urls:
        description:
          - The authorized redirect URIs of an V(authorization_code) integration; not touched when omitted.
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
        type: path
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
            system_user_id: 6f1c0b1e-7a5d-4a43-9d0b-2c1e0a9b8f01
            client_secret_file: /secure/creatio-powerbi.json
          - name: Order webhooks
            grant_type: client_credentials
            application_url: https://hooks.example.com
            system_user_id: 0d5a3e22-4c1b-4f7e-8a66-3b9f2d7c5e02
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
      type: str
      returned: when the integration was created in this run
    operations:
      description: The OAuthConfigService calls made for this item (in check mode, that would be made), in order.
      type: list
      elements: dict
    source:
      description: Where the integration was found before acting (V(cache), V(server), V(cache+server), V(none), V(given)).
      type: str
      returned: when the item was looked up
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils import engine, integration
from ansible_collections.creatio.oauth.plugins.module_utils.connection import connection_argspec, verify_argspec
from ansible_collections.creatio.oauth.plugins.module_utils.errors import ConfigurationError, CreatioError


def argument_spec():
    spec = connection_argspec()
    spec.update(verify_argspec())
    spec.update(clients=dict(type='list', elements='dict', required=True, options=integration.client_argspec()))
    return spec


def declared_clients(items):
    """Every item validated, before any request: the first problem fails the whole task."""
    declared, names, files = [], {}, {}
    for index, params in enumerate(items):
        where = 'clients[%d]' % index
        try:
            desired = integration.desired_state(params)
        except ConfigurationError as exc:
            raise exc.within(where, label='%s (%s)' % (where, params['name']) if params.get('name') else where)
        if desired['name'] in names:
            raise ConfigurationError('%s: the integration %r is already declared by clients[%d]' % (where, desired['name'], names[desired['name']]),
                                     option=where + '.name', hint='declare each integration once')
        names[desired['name']] = index
        secret_file = desired['client_secret_file']
        if secret_file and secret_file in files:
            raise ConfigurationError('%s: client_secret_file %s is also the file of clients[%d]' % (where, secret_file, files[secret_file]),
                                     option=where + '.client_secret_file', hint='give each integration its own file')
        if secret_file:
            files[secret_file] = index
        declared.append(desired)
    return declared


def handle(run):
    declared = declared_clients(run.params['clients'])
    results, diffs, failures = [], [], []
    stopped_by = stop_reason = None  # a failure that would fail every item after it
    try:
        integration.read_ahead(run, declared)
    except CreatioError as exc:
        if engine.concerns_one_integration(exc):
            raise
        stopped_by, stop_reason = exc, engine.error_result(exc, run)['msg']  # error_result scrubs it first
    for index, desired in enumerate(declared):
        name = desired['name']
        if stopped_by is not None:
            results.append({'name': name, 'changed': False, 'failed': True, 'attempted': False, 'operations': [],
                            'msg': 'not attempted: %s' % stopped_by.message})
            continue
        try:
            result = integration.apply(run, desired)
        except CreatioError as exc:
            if isinstance(exc, ConfigurationError):
                exc.within('clients[%d]' % index, say_where=False)  # the result names the item
            result = engine.error_result(exc, run)
            result.setdefault('operations', [])
            result['failed'] = True
            failures.append('%s: %s' % (name, result['msg']))
            if not engine.concerns_one_integration(exc):
                stopped_by = exc
                stop_reason = 'the failure of %s, which would fail them too' % name
        else:
            result['failed'] = False
            diff = result.pop('diff', None)
            if diff is not None and result['changed']:
                diffs.append(dict(diff, before_header=name, after_header=name))
        results.append(dict(result, name=name))
    outcome = {'changed': any(r['changed'] for r in results), 'clients': results}
    if run.module._diff:
        outcome['diff'] = diffs
    not_attempted = sum(1 for r in results if r.get('attempted') is False)
    if failures or not_attempted:
        parts = []
        if failures:
            parts.append('%d of %d integration(s) failed: %s' % (len(failures), len(results), ' | '.join(failures)))
        if not_attempted:
            parts.append('%d not attempted, because of %s' % (not_attempted, stop_reason))
        outcome['failed'] = True
        outcome['msg'] = '; '.join(parts)
    return outcome


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    engine.run_module(module, handle)


if __name__ == '__main__':
    main()
