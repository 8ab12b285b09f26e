# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Where an integration stands: the facts cache,
then Creatio's OData feed (read once for a whole batch when it can), merged into one Record."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._authorize_probe import settle_declared
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    ConfigurationError, LostAnswerError, ReadNotPermittedError, UnreadableAnswerError)
from ansible_collections.creatio.oauth.plugins.module_utils._records import Evidence, Record, RedirectUri, client_key
from ansible_collections.creatio.oauth.plugins.module_utils._site import guid_key

# What OData shows of an integration, and so what Creatio decides over the cache.
SERVER_FIELDS = ('name', 'client_id', 'application_url', 'system_user_id', 'active')
FRESH = object()  # server_records(..., cache_now=FRESH): never answered from the batch snapshot


class ServerReader(object):
    """The OData reads of one module run: whether the site lets us read, and the batch snapshot.

    ``lazy_client``: a callable giving the run's CreatioClient (built on first need); ``facts``: the
    run's SiteFacts (the redirect URI rows of a read ahead); ``warn``: the run's; ``cache_path``: the
    facts cache the run trusts when OData is refused (named in that warning)."""

    def __init__(self, lazy_client, facts, warn, cache_path):
        self.lazy_client = lazy_client
        self.facts = facts
        self.warn = warn
        self.cache_path = cache_path
        self.readable = None
        self.snapshot = None

    def records(self, names=None, client_ids=None, cache_now=FRESH):
        """Records from OData, or None when this site does not let us read them (warned once).

        ``cache_now``: the cache entry of the (one) name asked for, as read under its name lock. When
        the batch snapshot covers the question and saw that same entry, it answers without a request.
        """
        if self.readable is False:
            return None
        if self.snapshot is not None and cache_now is not FRESH and self.snapshot.answers(names, client_ids, cache_now):
            return self.snapshot.records_for(names, client_ids)
        rows = self._read(names, client_ids)
        return None if rows is None else [api.record_from_odata(row) for row in rows]

    def read_ahead(self, queries):
        """One OData read (chunked, see api.ODATA_MAX_FILTER_LENGTH) for the lookups of a whole
        batch. ``queries``: [(name, cache entry, (names, client_ids) or None)] in batch order."""
        names, client_ids, seen = [], [], {}
        for name, cached, query in queries:
            if query is None:
                continue
            seen[name] = cached
            names.extend(n for n in query[0] if n not in names)
            client_ids.extend(c for c in query[1] if c not in client_ids)
        if not names or self.readable is False:
            return
        rows = self._read(names, client_ids)
        if rows is None:
            return
        records = [api.record_from_odata(row) for row in rows]
        read_listed_redirect_urls(self.facts, records)  # the lookups of the batch take them as evidence
        self.snapshot = ServerSnapshot(records, names, client_ids, seen)

    def _read(self, names, client_ids):
        try:
            rows = self.lazy_client().odata_clients(names=names, client_ids=client_ids)
        except ReadNotPermittedError as exc:
            self.readable = False
            self.warn('Creatio refused to let this user read OAuthClientApp through OData (HTTP %s): the collection '
                      'trusts its local facts cache (%s) and cannot detect integrations created outside it'
                      % (exc.status, self.cache_path))
            return None
        self.readable = True
        return rows


class ServerSnapshot(object):
    """What Creatio said about the integrations of a batch, read once before the first of them is
    applied. It answers a lookup only while the cache entry of that integration is still what it
    was when the snapshot was read: a change means another run touched the integration meanwhile
    (it writes the cache before it releases the name lock), so that lookup reads again, fresh."""

    def __init__(self, records, names, client_ids, cache_seen):
        self.records = records
        self.names = set(names)
        self.client_ids = set(client_key(c) for c in client_ids)
        self.cache_seen = cache_seen

    def answers(self, names, client_ids, cache_now):
        names = names or []
        if len(names) != 1 or names[0] not in self.cache_seen or self.cache_seen[names[0]] != cache_now:
            return False
        return set(names) <= self.names and set(client_key(c) for c in client_ids or []) <= self.client_ids

    def records_for(self, names, client_ids):
        names, client_ids = set(names or []), set(client_key(c) for c in client_ids or [])
        return [r.copy() for r in self.records if r.name in names or client_key(r.client_id) in client_ids]


class Lookup(object):
    """Where an integration stands: ``record`` (None when it does not exist), ``recreate`` (the
    cache knew it and Creatio no longer has it), ``source`` (cache, server, cache+server, none,
    given), ``confirmed`` (Creatio was read for it) and ``same_name`` (the client ids of every
    integration Creatio has with that name, when it has more than one: the name is ambiguous).
    ``evidence``: what the OData read that found the record showed of its redirect URIs in this run
    (_records.Evidence; None when Creatio was not read for it)."""

    def __init__(self, record, source, recreate=False, same_name=None, evidence=None):
        self.record = record
        self.source = source
        self.recreate = recreate
        self.same_name = same_name or []
        self.evidence = evidence

    @property
    def confirmed(self):
        return self.source in ('server', 'cache+server')


def server_query(name, cached, client_id=None, verify=True, absent=False):
    """What a lookup asks Creatio, as (names, client_ids); None when the cache answers alone."""
    if client_id:
        return [name], typed_cases(client_id)
    if cached and cached.get('pending'):
        # absent + verify false: the user checked Creatio; clearing the marker is all there is to do
        return None if (absent and not verify) else ([name], [])
    if cached and not verify:
        return None
    return [name], ([cached['client_id']] if cached and cached.get('client_id') else [])


def typed_cases(client_id):
    """A client id a user typed, as OData filters must ask for it: a filter matches only the stored
    case on a case-sensitive database (PostgreSQL), Creatio stores upper case, and an older site may
    not; the cache's ids are asked for as Creatio gave them."""
    return [client_id.upper()] + ([client_id] if client_id != client_id.upper() else [])


def lookup(run, name, client_id=None, verify=True, absent=False):
    cached = run.cache.get(run.site, name)
    known = Record.from_cache(name, cached)
    query = server_query(name, cached, client_id, verify, absent)
    if query is None:
        return Lookup(known, 'cache')
    if known and known.pending and not client_id:
        return _lookup_pending(run, name, cached)
    found = run.reader.records(names=query[0], client_ids=query[1], cache_now=cached)
    if found is None:
        if client_id:
            if known and known.has_client_id(client_id):
                return Lookup(known, 'cache')
            return Lookup(Record(None, client_id=client_id), 'given')
        return Lookup(known, 'cache' if known else 'none')
    if client_id:
        match = [r for r in found if r.has_client_id(client_id)]
        if not match:
            raise ConfigurationError('no integration with client_id %s exists on %s' % (client_id, run.site), option='client_id',
                                     hint='copy the client id from the integration page, or omit client_id to look up by name')
        return Lookup(merge(known if known and known.has_client_id(client_id) else None, match[0]), 'server',
                      evidence=match[0].evidence)
    if known:
        match = [r for r in found if r.has_client_id(known.client_id)]
        if match:
            # The read asked for the name too: another integration of that name (made in Creatio) shows here.
            same_name = ambiguous_name(run, name, found, match[0])
            return Lookup(merge(known, match[0]), 'cache+server', same_name=same_name, evidence=match[0].evidence)
        found = [r for r in found if r.name == name]
        if not found:
            if not absent:
                run.warn('integration %r (client id %s) is in the facts cache but no longer in Creatio: it will be created '
                         'again' % (name, known.client_id))
            return Lookup(known, 'cache', recreate=True)
        refuse_rows_without_client_id(name, found)
        run.warn('integration %r in the facts cache had client id %s; Creatio now has it under another client id: adopting that'
                 % (name, known.client_id))
    same_name = _one_named(run, name, found)
    if same_name is None:
        return Lookup(None, 'none')
    return Lookup(merge(None, same_name), 'server', same_name=ambiguous_name(run, name, found, same_name),
                  evidence=same_name.evidence)


def _one_named(run, name, records):
    """The integration named ``name``. Several: the one oldest_of takes."""
    same_name = [r for r in records if r.name == name]
    refuse_rows_without_client_id(name, same_name)
    return oldest_of(same_name) if same_name else None


def ambiguous_name(run, name, records, taken):
    """The client ids of every integration of ``records`` named ``name`` when there are several
    (``taken`` being the one this run works on), with a warning; [] when the name is one integration's."""
    same_name = [r for r in records if r.name == name]
    if len(same_name) < 2:
        return []
    client_ids = sorted(r.client_id or '(none)' for r in same_name)
    run.warn('Creatio has %d integrations named %r (client ids %s): this run works on %s (%s); which one the '
             'declaration means cannot be told, so a check-mode run (the drift report) says unknown. Delete the '
             'extra ones in Creatio' % (len(same_name), name, ', '.join(client_ids), taken.client_id,
                                        'the oldest, the one a race between runs with separate caches keeps'
                                        if taken is oldest_of(same_name) else 'the one the facts cache knows'))
    return client_ids


def refuse_rows_without_client_id(name, same_name):
    """An integration named ``name`` listed without a client id: which one is the integration, and what it
    could be updated or deleted by, cannot be told. Adopting it would plan on a client id of None,
    creating another would make a second one: so the run stops, before any write."""
    if [r for r in same_name if not r.client_id]:
        raise UnreadableAnswerError(
            'OData OAuthClientApp lists an integration named %r without a client id, so whether it is the integration '
            'and what its client id is cannot be told; nothing was changed for it' % name, call='OData OAuthClientApp',
            status=200, hint='look at %r in Creatio (System Designer > OAuth 2.0 integrated applications): if it has a '
                             'client id there, something between the collection and Creatio (a gateway or proxy) changes '
                             'its OData answers' % name)


def oldest_of(records):
    """Of several integrations with one name (Creatio does not refuse a second), the one every part of
    the collection takes: the oldest (CreatedOn, then the row's Id). Runs adopt it, the read back after
    creating keeps it when separate caches race (every run applies the same rule, so exactly one
    survives), and the export writes it."""
    return min(records, key=lambda r: (str(r.created_on or ''), str(r.app_id or '')))


def _lookup_pending(run, name, cached):
    found = run.reader.records(names=[name], cache_now=cached)
    if found is None:
        raise LostAnswerError(
            'an earlier run sent AddClient for %r but its answer was lost, and this site does not allow the OData read '
            'that would tell whether it was created' % name, call='AddClient',
            hint='look for %r in Creatio: if it is there, set client_id to adopt it; if not, run once with state: absent '
                 'and verify: false (it clears the marker), then again' % name)
    same_name = _one_named(run, name, found)
    if same_name is None:
        return Lookup(None, 'none')
    run.warn('integration %r was created by an earlier run whose answer was lost: adopted (its client secret was in '
             'that answer and cannot be read back)' % name)
    return Lookup(merge(None, same_name), 'server', same_name=ambiguous_name(run, name, found, same_name),
                  evidence=same_name.evidence)


def merge(known, server):
    """Creatio wins for what OData shows; the cache keeps what only it knows (redirect URI ids,
    the grant type it created)."""
    record = known.copy() if known else Record(server.name)
    for key in SERVER_FIELDS:
        value = getattr(server, key)
        if value is not None or key == 'system_user_id':
            setattr(record, key, value)
    record.grant_type = record.grant_type or server.grant_type
    if record.redirect_urls is None:
        record.redirect_urls = server.redirect_urls
    record.app_id, record.created_on = server.app_id, server.created_on
    record.pending = False
    return record


def settle_redirect_urls(run, record, grant_types=True, confirmed=False, declared=None, evidence=None):
    """The redirect URIs of a record, from evidence only: before 8.3 the client's RedirectUrl column
    is the whole list (SRC); on 8.3 the redirect-URI entity, when the site lets it be read (rows read
    ahead with the batch are in ``evidence``, the Evidence of the OData read that found the record).

    A record ``confirmed`` against Creatio in this run takes the site's list wherever the site shows
    one, over the facts cache's: the cache can be behind the site (a run killed between a redirect
    URI call and its cache update, an answer lost, a change made in Creatio). Where the site shows
    none, the ``declared`` URIs are checked one by one at the identity service's authorization
    endpoint where it answers (_authorize_probe); otherwise the cache's list stands, and a list
    nobody knows stays unknown (None): never guessed."""
    if record.redirect_urls is not None and not confirmed:
        return record
    listed = _listed_redirect_urls(run, record, grant_types, evidence)
    if listed is None:
        return settle_declared(run, record, declared) if grant_types and declared else record
    if record.redirect_urls is not None and _rows(record.redirect_urls) == _rows(listed):
        return record  # the same rows: the cache's order stands (no rewrite for an order)
    if record.redirect_urls is not None and set(record.known_urls()) != set(r.url for r in listed):
        run.warn('integration %r: the facts cache had the redirect URIs %s, Creatio lists %s: Creatio\'s list is taken '
                 '(an earlier run ended before it recorded a change, or the integration was changed in Creatio)'
                 % (record.name, sorted(record.known_urls()) or 'none', sorted(r.url for r in listed) or 'none'))
    record.redirect_urls = listed
    return record


def read_listed_redirect_urls(facts, records):
    """Sets ``evidence.listed`` of the authorization code records read from OData (SiteRows) to the rows
    the site's redirect-URI entity lists for them (``facts``: the run's SiteFacts): one read for all
    (split under the query string limit); left None where the site does not let them be read."""
    with_urls = [r for r in records if r.grant_type == 'authorization_code' and r.app_id]
    listed = facts.redirect_rows_of([r.app_id for r in with_urls]) if with_urls else None
    for record in with_urls if listed is not None else []:
        record.evidence.listed = listed[guid_key(record.app_id)]


def _rows(urls):
    return sorted((r.url or '', r.id or '') for r in urls)


def _listed_redirect_urls(run, record, grant_types, evidence):
    """The client's redirect URI list as the site shows it, or None where it shows none."""
    if not record.app_id:
        return None  # not read from OData in this run
    evidence = evidence or Evidence()
    if not grant_types:
        return [RedirectUri(evidence.column)] if evidence.column else []
    if record.grant_type != 'authorization_code':
        return None
    if evidence.listed is not None:
        return [RedirectUri(r.url, r.id) for r in evidence.listed]
    return run.facts.redirect_rows(record.app_id)


def unconfirmed_warning(name, urls):
    return ('integration %r: the redirect URI(s) %s are unconfirmed: this site does not let the collection read which '
            'redirect URIs an integration has (no readable redirect-URI entity, and no authorization endpoint that '
            'answers), and the facts cache does not know them, so they were not added (adding one that is there would '
            'make a second row). Check the integration in Creatio (System Designer > OAuth 2.0 integrated applications); '
            'add_unconfirmed_redirect_urls: true adds every declared URI it cannot confirm, so one that is already there '
            'gets a second row (delete it on that page): use it once, where none or few are there, and it records the ids'
            % (name, ', '.join(urls)))
