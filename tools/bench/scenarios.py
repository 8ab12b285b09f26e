# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the bench declares and runs: the integrations, and the playbooks of every scenario."""

from __future__ import absolute_import, division, print_function

import importlib
import os
import sys
import tempfile

import yaml

from bench.common import ADMIN_PASSWORD, ADMIN_USER, POWERBI_USER_ID, WEBHOOK_USER_ID, testbed

# ---------------------------------------------------------------- the declared integrations


def integrations(count):
    """A deterministic mix of the role's presets. Every 5th (outlook_addin) has two redirect URIs,
    so its first run needs AddClient + AddRedirectUrls."""
    items = []
    for index in range(count):
        name = 'bench-%03d' % index
        kind = index % 5
        if kind == 0:
            items.append({'name': name, 'preset': 'powerbi', 'system_user_id': POWERBI_USER_ID})
        elif kind == 1:
            items.append({'name': name, 'preset': 'webhooks', 'application_url': 'https://hooks%d.example.com' % index,
                          'system_user_id': WEBHOOK_USER_ID})
        elif kind == 2:
            items.append({'name': name, 'preset': 'clio', 'system_user_id': WEBHOOK_USER_ID})
        elif kind == 3:
            items.append({'name': name, 'preset': 'outlook_addin',
                          'redirect_urls': ['https://addin%d.example.com/callback' % index,
                                            'https://addin%d.example.com/silent-callback' % index]})
        else:
            items.append({'name': name, 'preset': 'custom', 'grant_type': 'authorization_code',
                          'application_url': 'https://app%d.example.com' % index,
                          'redirect_urls': ['https://app%d.example.com/oauth/callback' % index]})
    return items


def collection_module(name):
    """A module_utils module of the collection in this checkout (imported through a linked tree)."""
    collections = testbed.linked_collection(os.path.join(tempfile.gettempdir(), 'creatio-bench-collections-%d' % os.getuid()))
    return _module_utils(collections, name)


def effective(item):
    """The module arguments an item stands for: the collection's own presets decide."""
    expanded, problems = collection_module('_rules').expand_preset(dict(item, state='present'), item['name'])
    assert not problems, problems
    settings = {'name': item['name'], 'grant_type': expanded['grant_type'], 'application_url': expanded['application_url']}
    for key in ('system_user_id', 'redirect_urls'):
        if key in item:
            settings[key] = item[key]
    return settings


def redirect_calls(items):
    """AddRedirectUrls calls of a first run: (what the collection sends, the issue's minimum).

    The collection sends one per authorization_code integration, even with a single URI: AddClient's
    own redirectUrl would create the URI without telling its id, and the id is what later updates and
    removals need (planner._plan_create). The issue's minimum counts only clients with more than one URI.
    """
    urls = [len(effective(item).get('redirect_urls') or []) for item in items]
    return sum(1 for n in urls if n >= 1), sum(1 for n in urls if n > 1)


def odata_requests(collections_path, names, with_client_ids):
    """How many OData requests one lookup of ``names`` takes (the collection's own split)."""
    clauses = ["Name eq '%s'" % name for name in names]
    if with_client_ids:
        clauses += ["ClientId eq '%s'" % ('0' * 32) for _name in names]  # client ids: 32 hex digits
    return _split_requests(collections_path, clauses)


def redirect_rows_requests(collections_path, count):
    """How many OData requests the redirect URI rows of ``count`` clients take (one read, split)."""
    if not count:
        return 0
    lookup = _module_utils(collections_path, '_api_assumptions').REDIRECT_ENTITY_LOOKUP
    guid = '0' * 8 + '-0000-0000-0000-' + '0' * 12
    return _split_requests(collections_path, ['%s eq %s' % (lookup, guid)] * count)


def _split_requests(collections_path, clauses):
    """How many requests an ``or``-joined filter of ``clauses`` takes, split as the collection splits it."""
    limit = _module_utils(collections_path, '_api_assumptions').ODATA_MAX_FILTER_LENGTH
    return len(_module_utils(collections_path, '_odata').filter_chunks(clauses, limit))


def _module_utils(collections_path, name):
    """A module_utils module of the collection in the tree ``collections_path``."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    return importlib.import_module('ansible_collections.creatio.oauth.plugins.module_utils.' + name)


# ---------------------------------------------------------------- playbooks


def _dump(document):
    return '---\n' + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=200)


def role_playbook(noverify=False):
    play = {'name': 'Bootstrap the integrations (bench, through the role)', 'hosts': 'localhost', 'connection': 'local',
            'gather_facts': False}
    if noverify:
        # The role has no variable for the modules' verify option: a play-level group default reaches
        # its module tasks (its own module_defaults are keyed by module and do not set verify).
        play['module_defaults'] = {'group/creatio.oauth.creatio': {'verify': False}}
    play['roles'] = [{'role': 'creatio.oauth.integrations'}]
    return _dump([play])


def loop_playbook(noverify=False):
    task = {
        'name': 'Apply the integrations',
        'creatio.oauth.creatio_oauth_client': {
            'name': '{{ item.name }}',
            'grant_type': '{{ item.grant_type }}',
            'application_url': '{{ item.application_url }}',
            'system_user_id': '{{ item.system_user_id | default(omit) }}',
            'redirect_urls': '{{ item.redirect_urls | default(omit) }}',
            'verify': not noverify,
        },
        'loop': '{{ bench_integrations }}',
        'loop_control': {'label': '{{ item.name }}'},
        'no_log': True,
    }
    return _dump([{'name': 'Bootstrap the integrations (bench, one looping task)', 'hosts': 'localhost',
                   'gather_facts': False, 'tasks': [task]}])


def baseline_playbook(items, hosts='localhost', site='{{ creatio_site }}',
                      username="{{ lookup('ansible.builtin.env', 'CREATIO_USERNAME') }}",
                      password="{{ lookup('ansible.builtin.env', 'CREATIO_PASSWORD') }}"):
    """What users write today: uri login, the headers by hand, then one AddClient task per integration.
    ``hosts``, ``site`` and the credentials are Jinja expressions: localhost and the environment for
    one site, the inventory's variables for many."""
    tasks = [
        {'name': 'Log in to Creatio',
         'ansible.builtin.uri': {
             'url': site + '/ServiceModel/AuthService.svc/Login',
             'method': 'POST',
             'body_format': 'json',
             'headers': {'ForceUseSession': 'true'},
             'body': {'UserName': username, 'UserPassword': password},
             'return_content': True,
             'status_code': 200},
         'register': 'creatio_login',
         'no_log': True},
        {'name': 'Keep the session cookies and the CSRF token',
         'ansible.builtin.set_fact': {
             'creatio_cookie': "{{ creatio_login.cookies | dict2items | map(attribute='key') | zip(creatio_login.cookies "
                               "| dict2items | map(attribute='value')) | map('join', '=') | join('; ') }}",
             'creatio_csrf': '{{ creatio_login.cookies.BPMCSRF }}'},
         'no_log': True},
    ]
    for item in items:
        settings = effective(item)
        request = {'name': settings['name'], 'applicationUrl': settings['application_url'], 'grantType': settings['grant_type']}
        if settings.get('system_user_id'):
            request['systemUserId'] = settings['system_user_id']
        if settings.get('redirect_urls'):
            request['redirectUrl'] = settings['redirect_urls'][0]
        tasks.append({
            'name': 'Create the integration %s' % settings['name'],
            'ansible.builtin.uri': {
                'url': site + '/0/rest/OAuthConfigService/AddClient',
                'method': 'POST',
                'body_format': 'json',
                'headers': {'Cookie': '{{ creatio_cookie }}', 'BPMCSRF': '{{ creatio_csrf }}'},
                'body': {'addClientRequest': request},
                'status_code': 200},
            'no_log': True})
    return _dump([{'name': 'Bootstrap the integrations (bench baseline, ansible.builtin.uri)', 'hosts': hosts,
                   'gather_facts': False, 'tasks': tasks}])


def floor_playbook(count):
    tasks = [{'name': 'Ping %d' % index, 'ansible.builtin.ping': None} for index in range(count)]
    return _dump([{'name': 'Floor (ansible.builtin.ping)', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}])


# ---------------------------------------------------------------- many sites (issue 15)

SITES_GROUP = 'bench_sites'


def site_names(count):
    return ['site-%03d' % index for index in range(count)]


def sites_inventory(urls, items, interpreter, secrets_base):
    """An inventory of sites as users keep it: one host per site (connection local), its
    creatio_url in host vars, the credentials and the integrations in group vars."""
    hosts = dict((name, {'creatio_url': url}) for name, url in zip(site_names(len(urls)), urls))
    group_vars = {
        'ansible_connection': 'local',
        'ansible_python_interpreter': interpreter,
        'creatio_username': ADMIN_USER,
        'creatio_password': ADMIN_PASSWORD,
        'creatio_integrations': items,
        'creatio_integrations_secrets_dir': secrets_base + '/{{ inventory_hostname }}',
    }
    return _dump({'all': {'children': {SITES_GROUP: {'hosts': hosts, 'vars': group_vars}}}})


def sites_role_playbook():
    """The collection's own playbook for many sites (the integrations role on every host); run it with
    the extra var creatio_sites=SITES_GROUP."""
    return _dump([{'name': 'Apply the integrations to every site (bench)', 'ansible.builtin.import_playbook': 'creatio.oauth.sites'}])


def sites_ping_playbook():
    """Ansible's own cost of one module task per site, with the same forks."""
    return _dump([{'name': 'One ping per site (bench floor)', 'hosts': SITES_GROUP, 'gather_facts': False,
                   'tasks': [{'name': 'Ping', 'ansible.builtin.ping': None}]}])


def sites_module_playbook():
    """For the breakdown of a re-run: the role's one module task alone on every site (no role, none
    of its other tasks), with the connection from the inventory's variables."""
    task = {'name': 'Apply the integrations', 'no_log': True, 'creatio.oauth.creatio_oauth_clients': {
        'clients': '{{ creatio_integrations }}', 'secrets_dir': '{{ creatio_integrations_secrets_dir }}',
        'creatio_url': '{{ creatio_url }}', 'creatio_username': '{{ creatio_username }}',
        'creatio_password': '{{ creatio_password }}'}}
    return _dump([{'name': 'The module task alone on every site (bench)', 'hosts': SITES_GROUP, 'gather_facts': False,
                   'tasks': [task]}])


def sites_baseline_playbook(items):
    """The uri baseline on every site: login, headers, one AddClient task per integration."""
    return baseline_playbook(items, hosts=SITES_GROUP, site='{{ creatio_url }}', username='{{ creatio_username }}',
                             password='{{ creatio_password }}')
