# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one planner: from (desired, known) to the list of OAuthConfigService operations.

Pure functions, no I/O. Check mode reports the plan; a real run executes it (engine.py). ``apply``
computes the record after an operation, from its real result in a real run and from an empty result
in check mode, so the diff of a check run and the cache after a real run come from the same code.

A record is the cache's view of an integration: name, client_id, grant_type, application_url,
system_user_id, active, and redirect_urls as [{'id', 'url'}] (an id may be None when Creatio never
told it), or None for redirect_urls when nothing is known about them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.creatio.oauth.plugins.module_utils import api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils.errors import ConfigurationError

NEW_CLIENT = '(client id of the new integration)'
WHERE_TO_FIND_IDS = ('open the integration in Creatio (System Designer > OAuth 2.0 integrated applications) and copy '
                     'the Id column of "Authorized redirect URIs"')


class Operation(object):

    def __init__(self, call, payload, summary):
        self.call = call
        self.payload = payload
        self.summary = summary

    def as_dict(self):
        # Payloads never hold a secret (the secret is only ever in an AddClient *result*).
        return {'call': self.call, 'summary': self.summary, 'request': copy.deepcopy(self.payload)}

    def __repr__(self):
        return 'Operation(%s, %r)' % (self.call, self.payload)


class Plan(object):

    def __init__(self, operations=None, warnings=None, forget=False):
        self.operations = operations or []
        self.warnings = warnings or []
        # True when the cache entry must go although nothing is sent (a record Creatio no longer has).
        self.forget = forget

    @property
    def changed(self):
        return bool(self.operations)


# --- the client --------------------------------------------------------------------------------

def plan_client(desired, known, recreate=False):
    """Operations that make integration ``desired['name']`` match ``desired``.

    ``known``: the best record we have (cache confirmed by OData when readable), or None.
    ``recreate``: the cache knew it but Creatio no longer has it.
    """
    name = desired['name']
    if desired['state'] == 'absent':
        if not known:
            return Plan()
        if not known.get('client_id'):
            return Plan(forget=True)  # a pending record: nothing on the server to delete
        return Plan([Operation('DeleteClient', {'clientId': known['client_id']},
                               'delete integration %s (client id %s)' % (name, known['client_id']))])
    if not known or recreate or not known.get('client_id'):
        return _plan_create(desired)
    return _plan_update(desired, known)


def _plan_create(desired):
    name = desired['name']
    missing = [opt for opt in ('grant_type', 'application_url') if not desired.get(opt)]
    if missing:
        raise ConfigurationError(
            'integration %r does not exist yet, and creating it needs %s' % (name, ' and '.join(missing)),
            option=missing[0], hint='set %s (the name alone only finds an existing integration)' % ', '.join(missing))
    grant = desired['grant_type']
    urls = desired.get('redirect_urls')
    if grant == 'client_credentials' and not desired.get('system_user_id'):
        raise ConfigurationError('system_user_id is required to create a client_credentials integration (%r)' % name,
                                 option='system_user_id', hint='give the Id of the technical user the integration acts as')
    if grant == 'authorization_code' and not urls:
        raise ConfigurationError(
            'redirect_urls must list at least one URI to create the authorization_code integration %r' % name,
            option='redirect_urls', hint='Creatio rejects every authorization request of a client without an authorized redirect URI')
    request = {'name': name, 'applicationUrl': desired['application_url'], 'grantType': grant}
    if grant == 'client_credentials':
        request['systemUserId'] = desired['system_user_id']
    # AddClient's own redirectUrl is not used: it does not return the id of the URI it creates, and
    # the id is what later updates and deletions need. One AddRedirectUrls call returns them all.
    operations = [Operation('AddClient', request, 'create integration %s (%s)' % (name, grant))]
    if urls:
        operations.append(Operation('AddRedirectUrls', {'clientId': NEW_CLIENT, 'redirectUrls': list(urls)},
                                    'authorize %d redirect URI(s) for %s' % (len(urls), name)))
    if desired.get('active') is False:
        operations.append(Operation('UpdateClient', {'clientId': NEW_CLIENT, 'isActive': False},
                                    'deactivate integration %s' % name))
    return Plan(operations)


def _plan_update(desired, known):
    name = desired['name']
    grant = known.get('grant_type')
    if desired.get('grant_type') and grant and desired['grant_type'] != grant:
        raise ConfigurationError(
            'integration %r uses grant type %s; Creatio cannot change the grant type of an integration' % (name, grant),
            option='grant_type',
            hint='to replace it, run the task with state: absent, then with the new grant_type (the client id and '
                 'secret change: update the consumers), or choose another name')
    grant = grant or desired.get('grant_type')
    if desired.get('redirect_urls') is not None and grant == 'client_credentials':
        raise ConfigurationError('redirect_urls only apply to authorization_code integrations; %r uses client_credentials' % name,
                                 option='redirect_urls')
    if desired.get('system_user_id') and grant == 'authorization_code':
        raise ConfigurationError('system_user_id only applies to client_credentials integrations; %r uses authorization_code' % name,
                                 option='system_user_id')
    changes = {}
    summary = []
    if known.get('name') and known['name'] != name:
        changes['name'] = name
        summary.append('name %r -> %r' % (known['name'], name))
    for option, key in (('application_url', 'applicationUrl'), ('system_user_id', 'systemUserId'), ('active', 'isActive')):
        wanted = desired.get(option)
        if wanted is not None and wanted != known.get(option):
            changes[key] = wanted
            summary.append('%s %r -> %r' % (option, known.get(option), wanted))
    operations = []
    if changes:
        request = {'clientId': known['client_id']}
        request.update(changes)
        operations.append(Operation('UpdateClient', request, 'update integration %s: %s' % (name, ', '.join(summary))))
    if desired.get('redirect_urls') is not None:
        operations.extend(plan_redirect_urls(
            name, known, desired['redirect_urls'], purge=desired.get('purge_redirect_urls', True)))
    return Plan(operations)


# --- redirect URIs -------------------------------------------------------------------------------

def require_authorization_code(name, known):
    if known.get('grant_type') == 'client_credentials':
        raise ConfigurationError(
            'integration %r uses the client_credentials grant: redirect URIs belong to authorization_code integrations' % name,
            option='client_name', hint='pick an authorization_code integration')


def plan_redirect_urls(name, known, urls, purge=False, absent=False):
    """Operations that make ``urls`` authorized (or, with ``absent``, not authorized) for the
    integration. With ``purge``, the authorized URIs that are not listed are removed too.
    Additions go first, in one call, so that the integration never passes through zero URIs."""
    require_authorization_code(name, known)
    rows = known.get('redirect_urls') or []
    known_urls = [r['url'] for r in rows]
    client = known.get('client_id') or NEW_CLIENT
    if absent:
        to_add = []
        to_remove = [r for r in rows if r['url'] in urls]
        if known.get('redirect_urls') is None:
            # Nothing is known about the URIs (adopted; Creatio cannot list them): any listed URI
            # may be authorized, and removing it needs an id nobody told us.
            to_remove += [{'id': None, 'url': u} for u in urls if u not in known_urls]
    else:
        to_add = [u for u in urls if u not in known_urls]
        to_remove = [r for r in rows if r['url'] not in urls] if purge else []
    unknown_ids = [r['url'] for r in to_remove if not r.get('id')]
    if unknown_ids:
        raise ConfigurationError(
            'cannot remove %s from integration %r: the id of that redirect URI is not known to this collection '
            '(Creatio has no API to list them)' % (', '.join(unknown_ids), name),
            option='redirect_urls',
            hint='%s, then remove it with creatio.oauth.creatio_redirect_url (redirect_url_id, state: absent)' % WHERE_TO_FIND_IDS)
    operations = []
    if to_add:
        operations.append(Operation('AddRedirectUrls', {'clientId': client, 'redirectUrls': to_add},
                                    'authorize %s for %s' % (', '.join(to_add), name)))
    for row in to_remove:
        operations.append(Operation('DeleteRedirectUrl', {'redirectUrlId': row['id']},
                                    'remove %s (id %s) from %s' % (row['url'], row['id'], name)))
    return operations


def plan_redirect_url_by_id(name, known, url_id, url=None, absent=False):
    """Update or delete one redirect URI by its id (ids the user copied from Creatio's page)."""
    require_authorization_code(name, known)
    row = next((r for r in known.get('redirect_urls') or [] if r.get('id') == url_id), None)
    if absent:
        # Sent even when the cache does not know the id: it may come from Creatio's page. Creatio's
        # "does not exist" answer then means done.
        return [Operation('DeleteRedirectUrl', {'redirectUrlId': url_id}, 'remove redirect URI id %s from %s' % (url_id, name))]
    if row and row['url'] == url:
        return []
    return [Operation('UpdateRedirectUrl', {'redirectUrlId': url_id, 'redirectUrl': url},
                      'set redirect URI id %s of %s to %s' % (url_id, name, url))]


# --- effects -----------------------------------------------------------------------------------

def apply(record, operation, result=None):
    """The record after ``operation`` (None once deleted). ``result`` is the unwrapped answer in a
    real run and None in check mode."""
    record = copy.deepcopy(record) if record else {}
    payload = operation.payload
    result = result or {}
    call = operation.call
    if call == 'AddClient':
        lowered = api.lower_keys(result)
        record = {
            'name': payload['name'], 'client_id': lowered.get('clientid') or NEW_CLIENT,
            'grant_type': payload['grantType'], 'application_url': payload['applicationUrl'],
            'system_user_id': payload.get('systemUserId'), 'active': True, 'redirect_urls': [],
        }
    elif call == 'AddRedirectUrls':
        returned = dict((url, rid) for rid, url in api.parse_added_redirect_urls(result)) if result else {}
        rows = record.get('redirect_urls') or []
        for url in payload['redirectUrls']:
            rows.append({'id': returned.get(url), 'url': url})
        record['redirect_urls'] = rows
    elif call == 'UpdateRedirectUrl':
        rows = [r for r in record.get('redirect_urls') or [] if r.get('id') != payload['redirectUrlId']]
        rows.append({'id': payload['redirectUrlId'], 'url': payload['redirectUrl']})
        record['redirect_urls'] = rows
    elif call == 'DeleteRedirectUrl':
        if record.get('redirect_urls') is not None:  # an unknown list stays unknown, not empty
            record['redirect_urls'] = [r for r in record['redirect_urls'] if r.get('id') != payload['redirectUrlId']]
    elif call == 'UpdateClient':
        for key, option in (('name', 'name'), ('applicationUrl', 'application_url'),
                            ('systemUserId', 'system_user_id'), ('isActive', 'active')):
            if key in payload:
                record[option] = payload[key]
    elif call == 'DeleteClient':
        return None
    return record


def fill_new_client_id(operation, client_id):
    if operation.payload.get('clientId') == NEW_CLIENT:
        operation.payload['clientId'] = client_id
    return operation
