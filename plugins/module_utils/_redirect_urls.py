# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The redirect URIs service: the URIs of one
authorization code integration, by value or one by id. The service of creatio_redirect_url."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _normalize as normalize
from ansible_collections.creatio.oauth.plugins.module_utils import _planner as planner
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import RedirectRequest
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, RecordNotFoundError
from ansible_collections.creatio.oauth.plugins.module_utils._executor import execute
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import lookup, settle_redirect_urls, typed_cases, unconfirmed_warning
from ansible_collections.creatio.oauth.plugins.module_utils._records import Record, same_client, url_rows


def argspec():
    return dict(
        client_name=dict(type='str'),
        client_id=dict(type='str'),
        redirect_urls=dict(type='list', elements='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        purge=dict(type='bool', default=False),
        redirect_url_id=dict(type='str'),
        redirect_url=dict(type='str'),
        add_unconfirmed_redirect_urls=dict(type='bool', default=False),
    )


def declare(params):
    """The validated request (a RedirectRequest, made once: every option the service needs); raises before
    any request is sent."""
    absent = params['state'] == 'absent'
    client_name = normalize.name(params['client_name'], 'client_name') if params['client_name'] is not None else None
    client_id = normalize.client_id(params['client_id'])
    url_id = normalize.guid(params['redirect_url_id'], 'redirect_url_id', what='redirect URI')
    made = dict(client_name=client_name, client_id=client_id, absent=absent, purge=params['purge'], url_id=url_id,
                add_unconfirmed_redirect_urls=params.get('add_unconfirmed_redirect_urls') or False,
                verify=params.get('verify', True))
    if url_id:
        if params['redirect_urls'] is not None:
            raise ConfigurationError('redirect_urls cannot be combined with redirect_url_id', option='redirect_urls',
                                     hint='use redirect_urls to manage URIs by value, or redirect_url_id for one URI by id')
        if params['redirect_url'] is None and not absent:
            raise ConfigurationError('redirect_url_id with state: present needs redirect_url (the new value)', option='redirect_url',
                                     hint='or set state: absent to remove that URI')
        if params['redirect_url'] is not None and absent:
            raise ConfigurationError('redirect_url is not used with state: absent', option='redirect_url',
                                     hint='remove redirect_url: state absent removes the URI whose id is redirect_url_id')
        url = normalize.redirect_url(params['redirect_url'], 'redirect_url') if params['redirect_url'] is not None else None
        return RedirectRequest(url=url, **made)
    if params['redirect_url'] is not None:
        raise ConfigurationError('redirect_url needs redirect_url_id (the id of the URI to change)', option='redirect_url',
                                 hint='to add a URI, list it in redirect_urls')
    if not params['redirect_urls']:
        raise ConfigurationError('redirect_urls (a non-empty list) or redirect_url_id is required', option='redirect_urls')
    if params['purge'] and absent:
        raise ConfigurationError('purge only applies with state: present', option='purge')
    return RedirectRequest(urls=normalize.redirect_urls(params['redirect_urls'], removing=absent), **made)


def _find_integration(run, request):
    """(record, confirmed, evidence) of the integration the URIs belong to; fails when it does not exist.
    ``confirmed``: Creatio was read, so the cache entry can be refreshed; ``evidence``: what that read showed."""
    name, client_id = request.client_name, request.client_id
    if client_id:
        cached = [n for n, entry in run.cache.clients(run.site).items() if same_client(entry.get('client_id'), client_id)]
        name = cached[0] if cached else name
    if name:
        early = Record.from_cache(name, run.cache.get(run.site, name))
        if early:
            # Known from the cache: refuse a client_credentials integration before any request.
            planner.require_authorization_code(name, early)
        found = lookup(run, name, verify=request.verify)
        if found.record is None or found.recreate:
            raise ConfigurationError('integration %r does not exist on %s' % (name, run.site), option='client_name',
                                     hint='create it first with creatio.oauth.creatio_oauth_client')
        return found.record, found.confirmed, found.evidence
    found = run.reader.records(client_ids=typed_cases(client_id))
    if found is None:
        raise ConfigurationError('client_id %s is not in the facts cache, and this site does not allow reading integrations '
                                 'through OData' % client_id, option='client_id', hint='use client_name, or manage the '
                                 'integration with creatio.oauth.creatio_oauth_client first')
    match = [r for r in found if r.has_client_id(client_id)]
    if not match:
        raise ConfigurationError('no integration with client_id %s exists on %s' % (client_id, run.site), option='client_id')
    return match[0], True, match[0].evidence


def apply(run):
    """The service of creatio_redirect_url."""
    request = declare(run.params)
    with run.name_lock(request.client_name or request.client_id):
        record, confirmed, evidence = _find_integration(run, request)
        name = record.name
        planner.require_authorization_code(name, record)
        if not run.facts.has_redirect_methods():
            raise ConfigurationError(
                'creatio_redirect_url needs Creatio 8.3 or later: %s has no redirect URI methods (before 8.3 an integration '
                'has one redirect URI, its redirectUrl)' % run.site, option='redirect_urls',
                hint='manage the one redirect URI with creatio.oauth.creatio_oauth_client (redirect_urls with one URI); '
                     'nothing was written')
        record = settle_redirect_urls(run, record, confirmed=confirmed, declared=request.urls, evidence=evidence)
        unconfirmed = []
        if record.redirect_urls is None and request.urls is not None and not request.absent:
            if request.purge:
                raise ConfigurationError(
                    'purge needs the redirect URI list of integration %r, and this site does not let the collection read '
                    'it (nor does the facts cache know it)' % name, option='purge',
                    hint='%s, then remove the extra ones with redirect_url_id and state: absent; nothing was written'
                         % planner.WHERE_TO_FIND_IDS)
            if request.add_unconfirmed_redirect_urls:
                record.redirect_urls = []
            else:
                unconfirmed = list(request.urls)
                run.warn(unconfirmed_warning(name, unconfirmed))
        if confirmed:
            run.remember(name, record)
        before_rows = url_rows(record.url_dicts())
        if request.url_id:
            operations = planner.plan_redirect_url_by_id(name, record, request.url_id, url=request.url,
                                                         absent=request.absent)
        elif unconfirmed:
            operations = []
        else:
            operations = planner.plan_redirect_urls(name, record, request.urls, purge=request.purge,
                                                    absent=request.absent)
        try:
            outcome = execute(run, name, planner.Plan(operations), record)
        except RecordNotFoundError as exc:
            if exc.call != 'UpdateRedirectUrl':
                raise
            # The id is the user's: not a stale facts cache (the hint Creatio's text gets elsewhere).
            exc.hint = ('redirect_url_id %s is not the id of a redirect URI on %s: copy the id from the integration page '
                        '(System Designer > OAuth 2.0 integrated applications), or give the URI itself in redirect_urls; '
                        'nothing was changed' % (request.url_id, run.site))
            raise
    after_rows = url_rows(outcome.record.url_dicts() if outcome.record else None)
    result = {
        'changed': bool(outcome.done),
        'client': {'name': name, 'client_id': record.client_id},
        'redirect_urls': after_rows,
        'added': [u for op in outcome.done if op['call'] == 'AddRedirectUrls' for u in op['request']['redirectUrls']],
        'removed': [op['request']['redirectUrlId'] for op in outcome.done if op['call'] == 'DeleteRedirectUrl'],
        'updated': [op['request']['redirectUrlId'] for op in outcome.done if op['call'] == 'UpdateRedirectUrl'],
        'operations': outcome.done,
    }
    if unconfirmed:
        result['unconfirmed_redirect_urls'] = unconfirmed
    if run.diff:
        result['diff'] = {'before': {'redirect_urls': [r['url'] for r in before_rows]},
                          'after': {'redirect_urls': [r['url'] for r in after_rows]}}
    return result
