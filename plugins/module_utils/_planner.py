# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The one planner: from (Declaration, known Record) to
the list of OAuthConfigService operations.

Pure functions, no I/O and no wire parsing. Check mode reports the plan; a real run executes it
(_executor.py). ``apply`` computes the record after an operation from what the call told (the new
client id, the ids of added redirect URIs), or from nothing in check mode, so the diff of a check run
and the cache after a real run come from the same code.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._records import NEW_CLIENT, Record, RedirectUri

WHERE_TO_FIND_IDS = ('open the integration in Creatio (System Designer > OAuth 2.0 integrated applications) and copy '
                     'the Id column of "Authorized redirect URIs"')


class Operation(object):
    """One OAuthConfigService call. ``on_client``: the request names the integration by its client
    id: ``client_id`` when the plan knows it, else the id of the integration the same plan creates,
    given when the request is built (it exists only once AddClient has answered)."""

    def __init__(self, call, payload, summary, on_client=False, client_id=None):
        self.call = call
        self.payload = payload
        self.summary = summary
        self.on_client = on_client
        self.client_id = client_id

    def request(self, new_client_id=None):
        request = {'clientId': self.client_id or new_client_id or NEW_CLIENT} if self.on_client else {}
        request.update(copy.deepcopy(self.payload))
        return request

    def as_dict(self, new_client_id=None):
        # Requests never hold a secret (the secret is only ever in an AddClient *result*).
        return {'call': self.call, 'summary': self.summary, 'request': self.request(new_client_id)}

    def __repr__(self):
        return 'Operation(%s, %r)' % (self.call, self.payload)


class Plan(object):

    def __init__(self, operations=None, forget=False, unconfirmed=None):
        self.operations = operations or []
        # True when the cache entry must go although nothing is sent (a record Creatio no longer has).
        self.forget = forget
        # Declared redirect URIs nobody can tell are authorized (the list cannot be read): not added.
        self.unconfirmed = unconfirmed or []

    @property
    def changed(self):
        return bool(self.operations)


# --- the client --------------------------------------------------------------------------------

def plan_client(desired, known, recreate=False, grant_types=True):
    """Operations that make integration ``desired.name`` match ``desired``.

    ``known``: the best Record we have (cache confirmed by OData when readable), or None.
    ``recreate``: the cache knew it but Creatio no longer has it.
    ``grant_types``: the site has grant types and the redirect URI methods (Creatio 8.3); before
    that, the one redirect URI is the client's redirectUrl.
    """
    name = desired.name
    if desired.state == 'absent':
        if recreate:
            return Plan(forget=True)  # gone from Creatio already: only the cache entry is left
        if not known:
            return Plan()
        if not known.client_id:
            return Plan(forget=True)  # a pending record: nothing on the server to delete
        return Plan([Operation('DeleteClient', {}, 'delete integration %s (client id %s)' % (name, known.client_id),
                               on_client=True, client_id=known.client_id)])
    if not known or recreate or not known.client_id:
        return _plan_create(desired, grant_types)
    return _plan_update(desired, known, grant_types)


def _plan_create(desired, grant_types=True):
    rules.check_create(desired, grant_types)
    name, grant, urls = desired.name, desired.grant_type, desired.redirect_urls
    request = {'name': name, 'applicationUrl': desired.application_url, 'grantType': grant}
    if grant == 'client_credentials' or not grant_types:
        request['systemUserId'] = desired.system_user_id
    if not grant_types:
        # Before 8.3 the one redirect URI goes with AddClient (and grantType is ignored, SRC 8.1).
        if urls:
            request['redirectUrl'] = urls[0]
        operations = [Operation('AddClient', request, 'create integration %s (redirect URI in redirectUrl: Creatio before '
                                                      '8.3)' % name if urls else 'create integration %s' % name)]
        if desired.active is False:
            operations.append(Operation('UpdateClient', {'isActive': False}, 'deactivate integration %s' % name, on_client=True))
        return Plan(operations)
    # AddClient's own redirectUrl is not used: it does not return the id of the URI it creates, and
    # the id is what later updates and deletions need. One AddRedirectUrls call returns them all.
    operations = [Operation('AddClient', request, 'create integration %s (%s)' % (name, grant))]
    if urls:
        operations.append(Operation('AddRedirectUrls', {'redirectUrls': list(urls)},
                                    'authorize %d redirect URI(s) for %s' % (len(urls), name), on_client=True))
    if desired.active is False:
        operations.append(Operation('UpdateClient', {'isActive': False}, 'deactivate integration %s' % name, on_client=True))
    return Plan(operations)


def _plan_update(desired, known, grant_types=True):
    name = desired.name
    if not grant_types:
        return _plan_update_before_8_3(desired, known)
    grant = known.grant_type
    if desired.grant_type and grant and desired.grant_type != grant:
        raise ConfigurationError(
            'integration %r uses grant type %s; Creatio cannot change the grant type of an integration' % (name, grant),
            option='grant_type',
            hint='to replace it, run the task with state: absent, then with the new grant_type (the client id and '
                 'secret change: update the consumers), or choose another name')
    grant = grant or desired.grant_type
    rules.check_known_grant(name, desired, grant)
    changes, summary = _client_changes(desired, known)
    operations = []
    if changes:
        operations.append(Operation('UpdateClient', changes, 'update integration %s: %s' % (name, ', '.join(summary)),
                                    on_client=True, client_id=known.client_id))
    unconfirmed = []
    if desired.redirect_urls is not None:
        if known.redirect_urls is None:
            unconfirmed = list(desired.redirect_urls)  # cannot tell which are there: add none, say so
        else:
            operations.extend(plan_redirect_urls(
                name, known, desired.redirect_urls, purge=desired.purge_redirect_urls))
    return Plan(operations, unconfirmed=unconfirmed)


def _client_changes(desired, known):
    """UpdateClient's members for what differs (the name, the URL, the system user, active), and
    their summary."""
    changes, summary = {}, []
    if known.name and known.name != desired.name:
        changes['name'] = desired.name
        summary.append('name %r -> %r' % (known.name, desired.name))
    for option, key in (('application_url', 'applicationUrl'), ('system_user_id', 'systemUserId'), ('active', 'isActive')):
        wanted = getattr(desired, option)
        if wanted is not None and wanted != getattr(known, option):
            changes[key] = wanted
            summary.append('%s %r -> %r' % (option, getattr(known, option), wanted))
    return changes, summary


def _plan_update_before_8_3(desired, known):
    """No grant types, and the one redirect URI is the client's redirectUrl: an UpdateClient."""
    name = desired.name
    changes, summary = _client_changes(desired, known)
    urls = desired.redirect_urls
    if urls is not None:
        if len(urls) > 1:
            rules.raise_needs_8_3(name, 'more than one redirect URI')
        if known.known_urls() != list(urls):
            changes['redirectUrl'] = urls[0]
            summary.append('redirect URI %s -> %s (its redirectUrl: Creatio before 8.3)'
                           % (', '.join(known.known_urls()) or 'none', urls[0]))
    if not changes:
        return Plan()
    return Plan([Operation('UpdateClient', changes, 'update integration %s: %s' % (name, ', '.join(summary)),
                           on_client=True, client_id=known.client_id)])


# --- redirect URIs -------------------------------------------------------------------------------

def require_authorization_code(name, known):
    if known.grant_type == 'client_credentials':
        raise ConfigurationError(
            'integration %r uses the client_credentials grant: redirect URIs belong to authorization_code integrations' % name,
            option='client_name', hint='pick an authorization_code integration')


def plan_redirect_urls(name, known, urls, purge=False, absent=False):
    """Operations that make ``urls`` authorized (or, with ``absent``, not authorized) for the
    integration. With ``purge``, the authorized URIs that are not listed are removed too.
    Additions go first, in one call, so that the integration never passes through zero URIs."""
    require_authorization_code(name, known)
    rows = known.redirect_urls or []
    known_urls = known.known_urls()
    if absent:
        to_add = []
        to_remove = [r for r in rows if r.url in urls]
        if known.redirect_urls is None:
            # Nothing is known about the URIs (adopted; Creatio cannot list them): any listed URI
            # may be authorized, and removing it needs an id nobody told us.
            to_remove += [RedirectUri(u) for u in urls if u not in known_urls]
    else:
        to_add = [u for u in urls if u not in known_urls]
        to_remove = [r for r in rows if r.url not in urls] if purge else []
    unknown_ids = [r.url for r in to_remove if not r.id]
    if unknown_ids:
        raise ConfigurationError(
            'cannot remove %s from integration %r: the id of that redirect URI is not known to this collection '
            '(Creatio has no API to list them)' % (', '.join(unknown_ids), name),
            option='redirect_urls',
            hint='%s, then remove it with creatio.oauth.creatio_redirect_url (redirect_url_id, state: absent)' % WHERE_TO_FIND_IDS)
    operations = []
    if to_add:
        operations.append(Operation('AddRedirectUrls', {'redirectUrls': to_add},
                                    'authorize %s for %s' % (', '.join(to_add), name), on_client=True,
                                    client_id=known.client_id if known.exists else None))
    for row in to_remove:
        operations.append(Operation('DeleteRedirectUrl', {'redirectUrlId': row.id},
                                    'remove %s (id %s) from %s' % (row.url, row.id, name)))
    return operations


def plan_redirect_url_by_id(name, known, url_id, url=None, absent=False):
    """Update or delete one redirect URI by its id (ids the user copied from Creatio's page)."""
    require_authorization_code(name, known)
    row = next((r for r in known.redirect_urls or [] if r.id == url_id), None)
    if absent:
        # Sent even when the cache does not know the id: it may come from Creatio's page. Creatio's
        # "does not exist" answer then means done.
        return [Operation('DeleteRedirectUrl', {'redirectUrlId': url_id}, 'remove redirect URI id %s from %s' % (url_id, name))]
    if row and row.url == url:
        return []
    return [Operation('UpdateRedirectUrl', {'redirectUrlId': url_id, 'redirectUrl': url},
                      'set redirect URI id %s of %s to %s' % (url_id, name, url))]


# --- effects -----------------------------------------------------------------------------------

def apply(record, operation, client_id=None, added_ids=None):
    """The Record after ``operation`` (None once deleted). ``client_id``: what AddClient answered;
    ``added_ids``: {url: id} of what AddRedirectUrls answered; both None in check mode."""
    record = record.copy() if record else None
    payload = operation.payload
    call = operation.call
    if call == 'AddClient':
        return Record(payload['name'], client_id=client_id or NEW_CLIENT, grant_type=payload['grantType'],
                      application_url=payload['applicationUrl'], system_user_id=payload.get('systemUserId'),
                      active=True, redirect_urls=[RedirectUri(payload['redirectUrl'])] if payload.get('redirectUrl') else [])
    if call == 'DeleteClient':
        return None
    if call == 'AddRedirectUrls':
        added_ids = added_ids or {}
        record.redirect_urls = (record.redirect_urls or []) + [RedirectUri(u, added_ids.get(u)) for u in payload['redirectUrls']]
    elif call == 'UpdateRedirectUrl':
        rows = [r for r in record.redirect_urls or [] if r.id != payload['redirectUrlId']]
        record.redirect_urls = rows + [RedirectUri(payload['redirectUrl'], payload['redirectUrlId'])]
    elif call == 'DeleteRedirectUrl':
        if record.redirect_urls is not None:  # an unknown list stays unknown, not empty
            record.redirect_urls = [r for r in record.redirect_urls if r.id != payload['redirectUrlId']]
    elif call == 'UpdateClient':
        for key, attribute in (('name', 'name'), ('applicationUrl', 'application_url'),
                               ('systemUserId', 'system_user_id'), ('isActive', 'active')):
            if key in payload:
                setattr(record, attribute, payload[key])
        if 'redirectUrl' in payload:  # before 8.3: the one redirect URI
            record.redirect_urls = [RedirectUri(payload['redirectUrl'])] if payload['redirectUrl'] else []
    return record
