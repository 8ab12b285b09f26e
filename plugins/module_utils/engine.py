# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared engine of the modules: validation before any request, lookup (cache, then OData),
execution of a plan with the cache kept in step, and the one place that turns exceptions into
fail_json."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import errno
import json
import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.creatio.oauth.plugins.module_utils import api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import normalize
from ansible_collections.creatio.oauth.plugins.module_utils import planner
from ansible_collections.creatio.oauth.plugins.module_utils.cache import FactsCache
from ansible_collections.creatio.oauth.plugins.module_utils.connection import (
    build_client, cache_path_of, validate_connection)
from ansible_collections.creatio.oauth.plugins.module_utils.errors import (
    BusinessError, ConfigurationError, CreatioError, HttpError, LostAnswerError, ReadNotPermittedError,
    RecordNotFoundError, TransportError)
from ansible_collections.creatio.oauth.plugins.module_utils.session_store import SessionStore

SERVER_RECORD_FIELDS = ('name', 'client_id', 'application_url', 'system_user_id', 'active')
NOT_GIVEN = object()


class ModuleRun(object):
    """What one module invocation knows: validated connection, the cache, a lazy client."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.warnings = []
        self.site, self.login_kind, self.identity_url = validate_connection(self.params)
        if self.params.get('validate_certs') is False:
            self.warn('validate_certs is false: the TLS certificate of %s is not checked, so the password or client secret '
                      'sent to it could reach an impostor; give ca_path instead' % self.site)
        self.cache_path = cache_path_of(self.params)
        self.cache = FactsCache(self.cache_path)
        self.cache.check_usable(writable=not self.check_mode)
        self.odata_readable = None
        self.snapshot = None
        self._client = None

    @property
    def client(self):
        if self._client is None:
            # requests (about half of the module's start-up) is imported only when a request is
            # about to be sent: a run that fails validation, or trusts the cache (verify: false), never pays for it.
            from ansible_collections.creatio.oauth.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
            if not HAS_REQUESTS:
                self.module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
            store = SessionStore(self.cache_path) if self.params.get('reuse_session', True) else None
            self._client = build_client(self.params, session_store=store)
        return self._client

    def warn(self, message):
        if message not in self.warnings:
            self.warnings.append(message)

    # --- reading the server ----------------------------------------------------------------------
    def server_records(self, names=None, client_ids=None, cache_now=NOT_GIVEN):
        """Records from OData, or None when this site does not let us read them (warned once).

        ``cache_now``: the cache entry of the (one) name asked for, as read under its name lock. When
        given, and the batch snapshot covers the question and saw that same cache entry, the snapshot
        answers without a request. Without it (reading back a lost answer) the read is always fresh.
        """
        if self.odata_readable is False:
            return None
        if self.snapshot is not None and cache_now is not NOT_GIVEN and self.snapshot.answers(names, client_ids, cache_now):
            return self.snapshot.rows_for(names, client_ids)
        rows = self._read_server(names, client_ids)
        return None if rows is None else [api.record_from_odata(row) for row in rows]

    def take_snapshot(self, queries):
        """One OData read (chunked, see api.ODATA_MAX_FILTER_LENGTH) for the lookups of a whole
        batch. ``queries``: [(name, cache entry, (names, client_ids) or None)] in batch order."""
        names, client_ids, seen = [], [], {}
        for name, cached, query in queries:
            if query is None:
                continue
            seen[name] = cached
            names.extend(n for n in query[0] if n not in names)
            client_ids.extend(c for c in query[1] if c not in client_ids)
        if not names or self.odata_readable is False:
            return
        rows = self._read_server(names, client_ids)
        if rows is not None:
            self.snapshot = ServerSnapshot([api.record_from_odata(row) for row in rows], names, client_ids, seen)

    def _read_server(self, names, client_ids):
        try:
            rows = self.client.odata_clients(names=names, client_ids=client_ids)
        except ReadNotPermittedError as exc:
            self.odata_readable = False
            self.warn('Creatio refused to let this user read OAuthClientApp through OData (HTTP %s): the collection '
                      'trusts its local facts cache (%s) and cannot detect integrations created outside it'
                      % (exc.status, self.cache_path))
            return None
        self.odata_readable = True
        return rows

    # --- the cache -----------------------------------------------------------------------------
    def remember(self, name, record):
        if self.check_mode:
            return
        if record is None:
            self.cache.delete(self.site, name)
        else:
            stored = dict((k, v) for k, v in record.items() if k != 'first_redirect_url')
            self.cache.put(self.site, name, stored)

    def name_lock(self, name):
        if self.check_mode:
            return _NoLock()
        return self.cache.name_lock(self.site, name)


class ServerSnapshot(object):
    """What Creatio said about the integrations of a batch, read once before the first of them is
    applied. It answers a lookup only while the cache entry of that integration is still what it
    was when the snapshot was read: a change means another run touched the integration meanwhile
    (it writes the cache before it releases the name lock), so that lookup reads again, fresh."""

    def __init__(self, rows, names, client_ids, cache_seen):
        self.rows = rows
        self.names = set(names)
        self.client_ids = set(client_ids)
        self.cache_seen = cache_seen

    def answers(self, names, client_ids, cache_now):
        names = names or []
        if len(names) != 1 or names[0] not in self.cache_seen or self.cache_seen[names[0]] != cache_now:
            return False
        return set(names) <= self.names and set(client_ids or []) <= self.client_ids

    def rows_for(self, names, client_ids):
        names, client_ids = set(names or []), set(client_ids or [])
        return [copy.deepcopy(r) for r in self.rows if r['name'] in names or r['client_id'] in client_ids]


class _NoLock(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# --- lookup --------------------------------------------------------------------------------------

class Lookup(object):
    """Where an integration stands: ``record`` (None when it does not exist), ``recreate`` (the
    cache knew it and Creatio no longer has it), ``source`` (cache, server, cache+server, none)."""

    def __init__(self, record, source, recreate=False, adopted=False):
        self.record = record
        self.source = source
        self.recreate = recreate
        self.adopted = adopted


def server_query(name, cached, client_id=None, verify=True, absent=False):
    """What a lookup asks Creatio, as (names, client_ids); None when the cache answers alone."""
    if client_id:
        return [name], [client_id]
    if cached and cached.get('pending'):
        # absent + verify false: the user checked Creatio; clearing the marker is all there is to do
        return None if (absent and not verify) else ([name], [])
    if cached and not verify:
        return None
    return [name], ([cached['client_id']] if cached and cached.get('client_id') else [])


def cached_record(run, name):
    cached = run.cache.get(run.site, name)
    if cached is not None:
        cached.setdefault('name', name)
    return cached


def lookup(run, name, client_id=None, verify=True, absent=False):
    cached = cached_record(run, name)
    query = server_query(name, cached, client_id, verify, absent)
    if query is None:
        return Lookup(cached, 'cache')
    if cached and cached.get('pending') and not client_id:
        return _lookup_pending(run, name, cached)
    rows = run.server_records(names=query[0], client_ids=query[1], cache_now=cached)
    if rows is None:
        if client_id:
            known = cached if cached and cached.get('client_id') == client_id else {'name': None, 'client_id': client_id}
            return Lookup(known, 'cache' if known is cached else 'given')
        return Lookup(cached, 'cache' if cached else 'none')
    if client_id:
        match = [r for r in rows if r['client_id'] == client_id]
        if not match:
            raise ConfigurationError('no integration with client_id %s exists on %s' % (client_id, run.site), option='client_id',
                                     hint='copy the client id from the integration page, or omit client_id to look up by name')
        return Lookup(_merge(cached if cached and cached.get('client_id') == client_id else None, match[0]), 'server', adopted=True)
    if cached:
        match = [r for r in rows if r['client_id'] == cached.get('client_id')]
        if match:
            return Lookup(_merge(cached, match[0]), 'cache+server')
        by_name = [r for r in rows if r['name'] == name]
        if not by_name:
            run.warn('integration %r (client id %s) is in the facts cache but no longer in Creatio: it will be created again'
                     % (name, cached.get('client_id')))
            return Lookup(cached, 'cache', recreate=True)
        rows = by_name
        run.warn('integration %r in the facts cache had client id %s; Creatio now has it under another client id: adopting that'
                 % (name, cached.get('client_id')))
    same_name = [r for r in rows if r['name'] == name]
    if len(same_name) > 1:
        raise ConfigurationError(
            'Creatio has %d integrations named %r (client ids %s): the name is ambiguous'
            % (len(same_name), name, ', '.join(sorted(r['client_id'] for r in same_name))),
            option='name', hint='delete the extra ones in Creatio, or give client_id to pick one')
    if same_name:
        return Lookup(_merge(None, same_name[0]), 'server', adopted=True)
    return Lookup(None, 'none')


def _lookup_pending(run, name, cached):
    rows = run.server_records(names=[name], cache_now=cached)
    if rows is None:
        raise LostAnswerError(
            'an earlier run sent AddClient for %r but its answer was lost, and this site does not allow the OData read '
            'that would tell whether it was created' % name, call='AddClient',
            hint='look for %r in Creatio: if it is there, set client_id to adopt it; if not, run once with state: absent '
                 'and verify: false (it clears the marker), then again' % name)
    same_name = [r for r in rows if r['name'] == name]
    if len(same_name) == 1:
        run.warn('integration %r was created by an earlier run whose answer was lost: adopted (its client secret was in '
                 'that answer and cannot be read back)' % name)
        return Lookup(_merge(None, same_name[0]), 'server', adopted=True)
    if len(same_name) > 1:
        raise ConfigurationError('Creatio has %d integrations named %r' % (len(same_name), name), option='name',
                                 hint='delete the extra ones in Creatio, or give client_id to pick one')
    return Lookup(None, 'none')


def _merge(cached, server):
    """Creatio wins for what OData shows; the cache keeps what only it knows (redirect URI ids,
    the grant type it created)."""
    record = dict(cached or {})
    for key in SERVER_RECORD_FIELDS:
        if server.get(key) is not None or key == 'system_user_id':
            record[key] = server.get(key)
    if not record.get('grant_type'):
        record['grant_type'] = server['grant_type']
    if record.get('redirect_urls') is None:
        record['redirect_urls'] = server.get('redirect_urls')
    record['first_redirect_url'] = server.get('first_redirect_url')
    record.pop('pending', None)
    return record


def adopt_redirect_urls(run, record, declared):
    """An adopted authorization_code integration whose redirect URIs Creatio cannot list: take the
    declared ones as present (without ids), and say so."""
    if record.get('redirect_urls') is not None or record.get('grant_type') != 'authorization_code':
        return record
    rows = [{'id': None, 'url': u} for u in declared or []]
    first = record.get('first_redirect_url')
    if first and normalize.stored_url(first) not in [r['url'] for r in rows]:
        rows.append({'id': None, 'url': normalize.stored_url(first)})
    record['redirect_urls'] = rows
    run.warn('integration %r was adopted without its redirect URI list (Creatio has no API to read it): the declared URIs '
             'are recorded as present, without ids; to remove one later, %s' % (record.get('name'), planner.WHERE_TO_FIND_IDS))
    return record


# --- execution -----------------------------------------------------------------------------------

class Outcome(object):

    def __init__(self, record):
        self.record = record
        self.done = []
        self.secret = None


def execute(run, name, plan, record, on_created=None):
    """Execute (real run) or simulate (check mode) a plan, keeping the cache in step after each call.
    ``on_created(client_id, secret)`` runs right after AddClient succeeds (before anything else can fail)."""
    outcome = Outcome(record)
    if plan.forget and not run.check_mode:
        run.remember(name, None)
    try:
        for operation in plan.operations:
            _execute_one(run, name, operation, outcome, on_created)
    except CreatioError as exc:
        exc.done = outcome.done  # fail_from_error reports what did happen before the failure
        exc.secret = outcome.secret  # created, then failed: the only copy of the secret must not be dropped
        raise
    return outcome


def _execute_one(run, name, operation, outcome, on_created):
    if outcome.record and outcome.record.get('client_id') not in (None, planner.NEW_CLIENT):
        planner.fill_new_client_id(operation, outcome.record['client_id'])
    if run.check_mode:
        outcome.record = planner.apply(outcome.record, operation)
        outcome.done.append(operation.as_dict())
        return
    result, effective = _send(run, name, operation, outcome)
    if operation.call == 'AddClient':
        outcome.secret = api.lower_keys(result).get('clientsecret')
        if not api.lower_keys(result).get('clientid'):
            raise CreatioError('AddClient succeeded but returned no clientId', call='AddClient',
                               hint='report this: it is an API assumption of this collection')
    outcome.record = planner.apply(outcome.record, operation, result)
    run.remember(name, outcome.record)
    if effective:
        outcome.done.append(operation.as_dict())
    if operation.call == 'AddClient' and on_created:
        on_created(outcome.record['client_id'], outcome.secret)


def _send(run, name, operation, outcome):
    """One call; returns (result, effective). Deleting what is already gone is not a change, unless
    the transport had to repeat the call: then "does not exist" may answer our own lost first try."""
    retries_before = run.client.transport.retries_done
    try:
        return run.client.call(operation.call, operation.payload), True
    except RecordNotFoundError:
        if operation.call in ('DeleteRedirectUrl', 'DeleteClient'):
            return {}, run.client.transport.retries_done > retries_before
        raise
    except (TransportError, HttpError) as exc:
        if operation.call == 'AddClient' and _answer_may_be_lost(exc):
            return _settle_lost_add_client(run, name, operation, exc, outcome), True
        if operation.call == 'AddRedirectUrls' and _answer_may_be_lost(exc):
            raise LostAnswerError(
                'AddRedirectUrls for %r: %s; Creatio may or may not have added %s'
                % (name, exc.message, ', '.join(operation.payload['redirectUrls'])),
                call='AddRedirectUrls', status=exc.status,
                hint='Creatio has no API to list redirect URIs, so they were not recorded: a re-run adds them again, which '
                     'may leave a duplicate row per URI (harmless; delete extras on the integration page)')
        raise


def _answer_may_be_lost(exc):
    if isinstance(exc, TransportError):
        return exc.may_have_reached_server
    return exc.status is not None and (exc.status >= 500 or exc.status == 429)


def _may_still_be_running(exc):
    if isinstance(exc, TransportError):
        return exc.timed_out
    return exc.status == 504


def _settle_lost_add_client(run, name, operation, first_error, outcome):
    """AddClient's answer is lost. Never send it again blindly: read back by name, then decide."""
    try:
        rows = run.server_records(names=[name])
    except CreatioError:
        rows = None
    if rows is None:
        pending = dict(planner.apply(None, operation), client_id=None, pending=True)
        run.remember(name, pending)
        raise LostAnswerError(
            'AddClient for %r: %s, and the integration cannot be read back to see whether it was created'
            % (name, first_error.message), call='AddClient', status=first_error.status,
            hint='a re-run is safe: the facts cache marks %r as pending, so no run creates it again before Creatio '
                 'confirms whether it exists' % name)
    same_name = [r for r in rows if r['name'] == name]
    if not same_name and _may_still_be_running(first_error):
        # No answer in time (our timeout, or a gateway's 504): Creatio may still be creating it, so
        # "not there yet" is not "not created", and sending AddClient again could make a second one.
        run.remember(name, dict(planner.apply(None, operation), client_id=None, pending=True))
        raise LostAnswerError(
            'AddClient for %r: %s; Creatio may still be creating the integration, so it was not sent again'
            % (name, first_error.message), call='AddClient', status=first_error.status,
            hint='a re-run is safe: the facts cache marks %r as pending, and the next run reads it back before it '
                 'creates anything; raise request_timeout if Creatio is this slow' % name)
    if not same_name:
        # Confirmed not created: one more AddClient is the first one that counts.
        return run.client.call(operation.call, operation.payload)
    if len(same_name) == 1:
        outcome.record = planner.apply(None, operation, {'clientId': same_name[0]['client_id']})
        run.remember(name, outcome.record)
        raise LostAnswerError(
            'AddClient for %r: %s, but Creatio did create the integration (client id %s); its client secret was in the '
            'lost answer and Creatio never shows a secret again' % (name, first_error.message, same_name[0]['client_id']),
            call='AddClient', status=first_error.status,
            hint='it is now in the facts cache, so a re-run reports it unchanged; to get a usable secret, run once with '
                 'state: absent and then again (the client id changes)')
    raise LostAnswerError('AddClient for %r: %s, and Creatio now has %d integrations with that name'
                          % (name, first_error.message, len(same_name)), call='AddClient',
                          hint='delete the extra ones in Creatio (client ids %s)' % ', '.join(r['client_id'] for r in same_name))


# --- secrets on disk -----------------------------------------------------------------------------

def check_secret_file(path):
    if path and os.path.lexists(path):
        raise ConfigurationError('client_secret_file %s already exists; it is never overwritten' % path,
                                 option='client_secret_file', hint='move it away or name another file')
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise ConfigurationError('client_secret_file: the folder of %s does not exist' % path, option='client_secret_file')


def open_folder_warning(path):
    """A warning when the folder of a secret file lets other users in (the file itself is 0600,
    but its name, and any copy made beside it, would show)."""
    folder = os.path.dirname(os.path.abspath(path))
    mode = os.stat(folder).st_mode & 0o777
    if mode & 0o077:
        return ('client_secret_file %s is in a folder that other users can open (mode %04o): make it readable by its '
                'owner only (chmod 700 %s)' % (path, mode, folder))
    return None


SECRET_KEPT = ('the integration was created: its client secret is in the client_secret return value of this run (and '
               'nowhere else); keep it from there, or delete and re-create the integration for a new one')


def write_secret_file(path, document):
    """Mode 0600, created exclusively: a file that appeared meanwhile is not overwritten either.
    Any failure is a CreatioError whose hint says where the secret still is."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise ConfigurationError('client_secret_file %s appeared while the integration was being created; it was '
                                     'not overwritten' % path, option='client_secret_file', hint=SECRET_KEPT)
        raise CreatioError('client_secret_file %s could not be created (%s)' % (path, exc.strerror), hint=SECRET_KEPT)
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(document, handle, indent=2, sort_keys=True)
            handle.write('\n')
    except (IOError, OSError) as exc:
        raise CreatioError('client_secret_file %s could not be written (%s)' % (path, exc.strerror), hint=SECRET_KEPT)


# --- the module boundary ---------------------------------------------------------------------------

def run_module(module, handler):
    """Run ``handler(run)`` -> result dict, and exit (fail when the result says ``failed``). The
    one place exceptions become fail_json."""
    run = None
    try:
        run = ModuleRun(module)  # requests is checked for (and imported) when the first request is sent
        result = handler(run)
    except CreatioError as exc:
        fail_from_error(module, exc, run)
    finally:
        if run is not None and run._client is not None:
            run._client.transport.close()
    for warning in run.warnings:
        module.warn(warning)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)


def error_result(exc, run=None):
    """The result fields of a failure: msg, error (structured), and what was done before it.
    Secrets the client knows are scrubbed from the text first."""
    if run is not None and run._client is not None:
        run._client.scrub_error(exc)
    error = exc.details()
    error['type'] = exc.__class__.__name__
    if isinstance(exc, ConfigurationError):
        error['option'] = exc.option
    result = {'msg': exc.full_message(), 'error': error, 'changed': False}
    done = getattr(exc, 'done', None)
    if done:
        result['operations'] = done
        result['changed'] = True
    if getattr(exc, 'secret', None):
        result['client_secret'] = exc.secret  # the documented exception: the run that created it
    return result


def fail_from_error(module, exc, run=None):
    result = error_result(exc, run)
    if run is not None:
        for warning in run.warnings:
            module.warn(warning)
    module.fail_json(**result)


def concerns_one_integration(exc):
    """Whether a failure is about one integration (its input, its record, its lost answer), so
    that a batch can go on with the others; anything else (login, TLS, transport, the site's
    feature switch or permissions, the cache) would fail every other integration the same way."""
    if isinstance(exc, (ConfigurationError, LostAnswerError)):
        return True
    if isinstance(exc, BusinessError):
        message = exc.creatio_message or ''
        return not any(api.message_matches(message, words) for words in (
            api.MESSAGE_FEATURE_DISABLED, api.MESSAGE_NO_PERMISSION, api.MESSAGE_IDENTITY_DOWN))
    return False
