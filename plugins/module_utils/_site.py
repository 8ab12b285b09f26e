# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). What the collection finds out about a site itself,
from evidence, only when a decision needs it, and keeps in the facts cache:

- whether it has the redirect URI methods and grant types of Creatio 8.3 (its OpenID configuration,
  DOC 8.3; or the redirect-URI entity in its OData description);
- which OData entity holds the authorized redirect URIs of a client (found in ``$metadata``: an
  entity set with a lookup to OAuthClientApp and a URL column), and so the real list of a client.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
from xml.etree import ElementTree

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError, ReadNotPermittedError
from ansible_collections.creatio.oauth.plugins.module_utils._normalize import stored_url
from ansible_collections.creatio.oauth.plugins.module_utils._odata import filter_chunks
from ansible_collections.creatio.oauth.plugins.module_utils._records import RedirectUri

NOT_FOUND = ''  # kept in the cache for "looked, and there is none"
EVIDENCE = '_evidence'  # the fact "<key>_evidence": what decided it
CHECKED_AT = '_checked_at'  # the fact "<key>_checked_at": when a "there is none" fact was found (seconds since the epoch)


class RedirectEntity(object):
    """The OData entity set that lists redirect URIs: its name, its lookup column to OAuthClientApp
    and its URL column."""

    def __init__(self, name, lookup, url_column):
        self.name = name
        self.lookup = lookup
        self.url_column = url_column

    def as_fact(self):
        return {'name': self.name, 'lookup': self.lookup, 'url_column': self.url_column}


class SiteFacts(object):
    """The site facts of one module run; each is looked up once, on first need.

    ``lazy_client``: a callable giving the run's CreatioClient (built on first need, so that a run the
    cache answers never imports requests); ``cache``: the FactsCache, or None; ``site``: the site URL, the
    key of its facts; ``check_mode``: keep nothing; ``warn`` and ``scrub``: the run's; ``probe``: the
    AuthorizeProbe of the run."""

    def __init__(self, lazy_client, cache, site, check_mode, warn, scrub, probe):
        self.lazy_client = lazy_client
        self.cache = cache
        self.site = site
        self.check_mode = check_mode
        self.warn = warn
        self.scrub = scrub
        self._entity = None
        self.known_redirect_methods = None  # once asked: what has_redirect_methods said
        self.rows_unreadable = False
        self.description_read = False  # this run read the OData description ($metadata)
        # A "there is none" fact is asked again on every run that reports rather than changes (check mode:
        # the role's drift and export runs; creatio_oauth_client_info sets it), and once it is a day old:
        # a site is upgraded, or a permission granted, without the facts cache knowing.
        self.recheck_negative = check_mode
        self._evidence = None
        self.version_undecided = False  # 8.3 taken from the OpenID configuration alone (nothing decisive answered)
        self._probe = probe

    def authorize_probe(self):
        """The identity service's authorization endpoint as evidence of one registered redirect URI."""
        return self._probe

    def _fact(self, key):
        return self.cache.site_fact(self.site, key) if self.cache is not None else None

    def _keep(self, key, value):
        if self.cache is not None and not self.check_mode:
            self.cache.put_site_fact(self.site, key, value)

    def _keep_negative(self, key, value):
        """Keep a "there is none" fact with when it was found, so that it is asked again (_stale)."""
        self._keep(key + CHECKED_AT, int(time.time()))
        self._keep(key, value)

    def _stale(self, key):
        """Whether the "there is none" fact ``key`` must be asked again (see ``recheck_negative``)."""
        if self.recheck_negative:
            return True
        checked = self._fact(key + CHECKED_AT)
        # a fact from before timestamps (or a clock set back) counts as old
        return not isinstance(checked, (int, float)) or not 0 <= time.time() - checked <= api.NEGATIVE_FACT_MAX_AGE

    # --- a fact of another service (_recovery.py: whether the site has GetClientSecret) -------------
    def kept_fact(self, key, fresh_only=True):
        """(value, evidence) of fact ``key`` in the facts cache; (None, None) when unknown, or when it is a
        "there is none" (False) fact that must be asked again (``fresh_only``; see _stale)."""
        value = self._fact(key)
        if value is None or (value is False and fresh_only and self._stale(key)):
            return None, None
        return value, self._fact(key + EVIDENCE)

    def learn_fact(self, key, value, evidence):
        """Keep fact ``key`` (True or False) with what decided it; False is asked again after a day (_stale)."""
        self._keep(key + EVIDENCE, evidence)
        if value:
            self._keep(key, value)
        else:
            self._keep_negative(key, value)

    # --- Creatio 8.3 or older ----------------------------------------------------------------
    def has_redirect_methods(self):
        """True where AddRedirectUrls and grant types exist (Creatio 8.3), False before (8.1)."""
        if self.known_redirect_methods is None:
            known = self._fact('redirect_methods')
            if known is False and self._stale('redirect_methods'):
                known = None
            if known is True and not self._fact('redirect_methods' + EVIDENCE):
                known = None  # kept by an earlier version from the OpenID configuration alone: decided again
            if known is None:
                known = self._decide_redirect_methods()
            self.known_redirect_methods = known
        return self.known_redirect_methods

    def _decide_redirect_methods(self):
        # The entity is looked up first: the run that first meets redirect URIs on a site learns both
        # (kept in the facts cache), and later runs read the rows without learning anything new.
        if self.redirect_entity() is not None:
            self._keep_redirect_methods(True, 'the redirect-URI entity')
            return True
        if not self.lazy_client().openid_configuration():
            # "Older than 8.3" is kept only from two answers (no OpenID configuration, a description
            # without the entity), never from reads that failed: those ask again.
            if self.description_read and self.lazy_client().openid_answered:
                self._keep_redirect_methods(False, 'no OpenID configuration, no redirect-URI entity')
            return False
        # An OpenID configuration alone decides nothing (an 8.1 site may serve one): a redirect URI method
        # is asked, read-only (api.VERSION_PROBE_METHOD).
        try:
            status = self.lazy_client().method_status(api.VERSION_PROBE_METHOD)
        except CreatioError:
            status = None
        if status in (api.METHOD_EXISTS_STATUS, api.METHOD_ABSENT_STATUS):
            known = status == api.METHOD_EXISTS_STATUS
            self._keep_redirect_methods(known, '%s answered HTTP %s' % (api.VERSION_PROBE_METHOD, status))
            return known
        self.version_undecided = True  # the OpenID configuration is taken, for this run only
        return True

    def _keep_redirect_methods(self, known, evidence):
        self._evidence = evidence
        self._keep('redirect_methods' + EVIDENCE, evidence)
        if known:
            self._keep('redirect_methods', True)
        else:
            self._keep_negative('redirect_methods', False)

    def redirect_methods_evidence(self):
        """What decided has_redirect_methods (kept in the facts cache), or None."""
        return self._evidence or self._fact('redirect_methods' + EVIDENCE)

    def redirect_methods_missing(self, call):
        """A redirect URI method answered 404 after a good login: the site has none (before 8.3), whatever
        the facts cache said; corrected there."""
        self.known_redirect_methods = False
        self._keep_redirect_methods(False, '%s answered HTTP %s' % (call, api.METHOD_ABSENT_STATUS))

    # --- the redirect-URI entity ----------------------------------------------------------------
    def redirect_entity(self):
        """The RedirectEntity of this site, or None when its OData description has none (or cannot be read)."""
        if self._entity is not None:
            return self._entity or None
        known = self._fact('redirect_entity')
        if isinstance(known, dict) and known.get('name'):
            self._entity = RedirectEntity(known['name'], known['lookup'], known['url_column'])
            return self._entity
        if known == NOT_FOUND and not self._stale('redirect_entity'):
            self._entity = NOT_FOUND
            return None
        try:
            document = self.lazy_client().odata_metadata()
        except CreatioError:
            document = None
        entity = redirect_entity_of(document) if document else None
        self._entity = entity or NOT_FOUND
        self.description_read = document is not None
        if document is not None and entity:  # a description read: what it says is evidence worth keeping
            self._keep('redirect_entity', entity.as_fact())
        elif document is not None:
            self._keep_negative('redirect_entity', NOT_FOUND)
        return entity

    def redirect_rows(self, app_id):
        """The authorized redirect URIs of the client whose OAuthClientApp Id is ``app_id``, with
        their ids, as Creatio holds them; None when they cannot be read."""
        if not app_id:
            return None
        found = self.redirect_rows_of([app_id])
        return None if found is None else found[guid_key(app_id)]

    def redirect_rows_of(self, app_ids):
        """{OAuthClientApp Id (lower case): [RedirectUri]} for each of ``app_ids``, in one read (split
        under the query string limit); None when this site does not let them be read."""
        entity = self.redirect_entity()
        if entity is None or self.rows_unreadable:
            return None
        keys = [guid_key(a) for a in app_ids if a]
        found = dict((key, []) for key in keys)
        clauses = ['%s eq %s' % (entity.lookup, key) for key in keys]
        try:
            for chunk in filter_chunks(clauses, api.ODATA_MAX_FILTER_LENGTH):
                for row in self.lazy_client().odata_rows(entity.name, ('Id', entity.lookup, entity.url_column), chunk):
                    owner = guid_key(row.get(entity.lookup))
                    if owner not in found:
                        # A row that cannot be told apart would make its client look as if it had none.
                        raise CreatioError('a row of %s names no client that was asked for (%s %r)'
                                           % (entity.name, entity.lookup, row.get(entity.lookup)), call='OData %s' % entity.name,
                                           hint='report this: the redirect-URI entity is an API assumption of this collection')
                    if row.get(entity.url_column):
                        found[owner].append(RedirectUri(stored_url(row.get(entity.url_column)), guid_key(row.get('Id'))))
        except ReadNotPermittedError:
            self.rows_unreadable = True  # asked once per run: the answer will not change meanwhile
            return None
        except CreatioError as exc:
            # Retried already (a safe read). The lists stay what the cache says, or unknown: said once.
            self.rows_unreadable = True
            self.warn('the redirect URI rows of %s could not be read (%s): the facts cache\'s lists are used, and '
                      'redirect URIs it does not know stay unconfirmed' % (entity.name, self.scrub(exc).full_message()))
            return None
        return found


def guid_key(value):
    """A GUID as rows are matched: lower case, without the braces some serialisers add."""
    return str(value or '').strip().strip('{}').lower()


def redirect_entity_of(document):
    """The redirect-URI entity described by an OData CSDL document (ASSUMED shape, see
    api_assumptions.REDIRECT_ENTITY_*), or None."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        return None
    types = {}
    for element in root.iter():
        if _local(element.tag) != 'EntityType':
            continue
        properties = [p.get('Name') for p in element if _local(p.tag) == 'Property']
        lookup = None
        for nav in element:
            if _local(nav.tag) == 'NavigationProperty' and str(nav.get('Type', '')).rsplit('.', maxsplit=1)[-1] == api.ODATA_CLIENTS_ENTITY:
                constraint = [c.get('Property') for c in nav if _local(c.tag) == 'ReferentialConstraint']
                lookup = constraint[0] if constraint else None
        if lookup is None and api.REDIRECT_ENTITY_LOOKUP in properties:
            lookup = api.REDIRECT_ENTITY_LOOKUP
        url_columns = [p for p in properties if p and p.lower().endswith(api.REDIRECT_ENTITY_URL_SUFFIX)]
        if lookup and url_columns:
            types[element.get('Name')] = (lookup, url_columns[0])
    for element in root.iter():
        if _local(element.tag) == 'EntitySet':
            type_name = str(element.get('EntityType', '')).rsplit('.', maxsplit=1)[-1]
            if type_name in types and type_name != api.ODATA_CLIENTS_ENTITY:
                lookup, url_column = types[type_name]
                return RedirectEntity(element.get('Name'), lookup, url_column)
    return None


def _local(tag):
    return tag.rsplit('}', 1)[-1] if isinstance(tag, str) else ''
