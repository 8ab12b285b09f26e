# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The executor: a plan carried out (or, in check
mode, only reported), the facts cache kept in step after each call, and a lost answer settled by
reading back, never by sending a write again blindly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _planner as planner
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    BusinessError, ConfigurationError, CreatioError, HttpError, LostAnswerError, RecordNotFoundError, TransportError,
    UnreadableAnswerError)
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import merge, oldest_of, settle_redirect_urls
from ansible_collections.creatio.oauth.plugins.module_utils._normalize import stored_url
from ansible_collections.creatio.oauth.plugins.module_utils._odata import TEXT_TYPES

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401


class RaceLost(Exception):
    """Another run (with another facts cache) created the same integration at the same time, and its
    creation is the one that stays: this run's own was deleted again. ``survivor`` is the Record to
    adopt; ``done`` what this run did meanwhile."""

    def __init__(self, survivor, done):
        super(RaceLost, self).__init__('another run created integration %r at the same time; its creation (client id %s) '
                                       'stays' % (survivor.name, survivor.client_id))
        self.survivor = survivor
        self.done = done


class Outcome(object):

    def __init__(self, record):
        self.record = record
        self.done = []
        self.secret = None
        self.created = None  # OwnCreation: this run created the integration and kept it after the read back


class OwnCreation(object):
    """An integration this run created and kept after the read back right after creating. That read
    can come before a rival's AddClient lands, and a rival stamped in the same CreatedOn step may sort
    first (api.created_on_step), so the creation is read back once more when such a rival has landed
    (recheck_own_creations)."""

    def __init__(self, name, client_id, answered_at, created_on):
        self.name = name
        self.client_id = client_id
        self.answered_at = answered_at
        self.created_on = created_on

    def settled_at(self):
        """When (time.monotonic()) every rival that can tie with this creation has landed."""
        return self.answered_at + api.created_on_step(self.created_on) + api.RACE_SETTLE_MARGIN


def execute(run, name, plan, record, on_created=None):
    """Execute (real run) or simulate (check mode) a plan, keeping the cache in step after each call.
    ``on_created(client_id, secret)`` runs right after AddClient succeeds (before anything else can fail)."""
    outcome = Outcome(record)
    if plan.forget:
        run.remember(name, None)
    try:
        for operation in plan.operations:
            _execute_one(run, name, operation, outcome, on_created)
    except CreatioError as exc:
        exc.done = outcome.done  # the failure exit reports what did happen before the failure
        exc.secret = outcome.secret  # created, then failed: the only copy of the secret must not be dropped
        raise
    return outcome


def _execute_one(run, name, operation, outcome, on_created):
    client_id = outcome.record.client_id if outcome.record and outcome.record.exists else None
    if run.check_mode:
        outcome.done.append(operation.as_dict(client_id))
        outcome.record = planner.apply(outcome.record, operation)
        return
    result, effective = _send(run, name, operation, operation.request(client_id), outcome)
    answered_at = time.monotonic()
    new_client_id = added_ids = None
    if operation.call == 'AddClient':
        lowered = api.lower_keys(result)
        outcome.secret, new_client_id = lowered.get('clientsecret'), lowered.get('clientid')
        if not _is_text(new_client_id) or not _is_text(outcome.secret):
            # Creatio said it created the integration, but its answer lacks what it must hold: the
            # integration is settled by reading it back, and AddClient is never sent again.
            outcome.secret = None
            missing = ' and '.join(key for key in ('clientId', 'clientSecret') if not _is_text(lowered.get(key.lower())))
            unreadable = UnreadableAnswerError('AddClient was answered with success but without a usable %s' % missing,
                                               call='AddClient', status=200)
            # It raises: after an answer that cannot be read, AddClient is never sent again.
            _settle_lost_add_client(run, name, operation, operation.request(client_id), unreadable, outcome)
    elif operation.call == 'AddRedirectUrls':
        # The declared URIs were normalised: the answer's are too, or a URI echoed in another form loses its id.
        added_ids = dict((stored_url(url), rid) for rid, url in api.parse_added_redirect_urls(result))
    outcome.record = planner.apply(outcome.record, operation, client_id=new_client_id, added_ids=added_ids)
    run.remember(name, outcome.record)
    if effective:
        outcome.done.append(operation.as_dict(client_id))
    if new_client_id:
        try:
            found = run.reader.records(names=[name])
        except CreatioError:
            found = None
        survivor = _race_survivor(run, name, new_client_id, found)
        if survivor is not None:
            _give_way(run, name, new_client_id, outcome)
            raise RaceLost(survivor, outcome.done)
        own = [r for r in found or [] if r.name == name and r.has_client_id(new_client_id)]
        if own:
            outcome.created = OwnCreation(name, new_client_id, answered_at, own[0].created_on)
        if on_created:
            on_created(new_client_id, outcome.secret)


def execute_declared(run, desired, plan, known, grant_types, on_created=None, on_failure=None):
    """execute() the plan of a declaration (``desired``, a Declaration); where the read back after creating
    shows that another run created the same name at the same time and its creation stays (RaceLost), this
    run's own was deleted and the survivor is adopted (adopt_survivor). ``on_failure(exc)`` runs when the
    plan fails (CreatioError, raised on). Returns (the record the plan started from, plan, outcome)."""
    try:
        return known, plan, execute(run, desired.name, plan, known, on_created=on_created)
    except CreatioError as exc:
        if on_failure is not None:
            on_failure(exc)
        raise
    except RaceLost as lost:
        return adopt_survivor(run, desired, lost.survivor, grant_types, lost.done)


def adopt_survivor(run, desired, survivor, grant_types, done):
    """Another run's creation of the same name is the one that stays (this run deleted its own, ``done``):
    adopt it. Its redirect URIs are left to the run that created it (it may still be adding them:
    adding them here too would make second rows). Returns (record adopted, plan, outcome)."""
    name = desired.name
    run.warn('integration %r was created at the same time by another run (another facts cache): that one (client '
             'id %s, the older) stays; this run deleted its own creation and adopted it. Its client secret is in '
             'the other run\'s result or secret file, and its redirect URIs are left to that run this time: a '
             're-run converges' % (name, survivor.client_id))
    known = settle_redirect_urls(run, merge(None, survivor), grant_types, evidence=getattr(survivor, 'evidence', None))
    if known.redirect_urls is not None and not set(desired.redirect_urls or []) <= set(known.known_urls()):
        known.redirect_urls = None  # the other run may still be adding them: unknown until the next run reads them
    run.remember(name, known)
    plan = planner.plan_client(desired.replace(redirect_urls=None), known, grant_types=grant_types)
    outcome = execute(run, name, plan, known)
    outcome.done = done + outcome.done
    return known, plan, outcome


def give_way_where_lost(run, created, after_giving_way=None):
    """This run's own creations (``created``: [(OwnCreation, its Declaration, grant_types)]) read back once
    more (recheck_own_creations); each that is not the survivor is deleted (give_way, under its name lock),
    ``after_giving_way(creation, desired, survivor)`` runs (the secret file and the store's delivery of the deleted
    client), and the survivor is adopted.
    Returns [(creation, survivor, operations of the give way, outcome of the adoption or None, CreatioError or None)]."""
    contexts = dict((creation.name, (desired, grant_types)) for creation, desired, grant_types in created)
    settled = []
    for creation, survivor in recheck_own_creations(run, [c[0] for c in created]):
        desired, grant_types = contexts[creation.name]
        done = []
        try:
            with run.name_lock(creation.name):
                done = give_way(run, creation)
                if after_giving_way is not None:
                    after_giving_way(creation, desired, survivor)
                _known, _plan, outcome = adopt_survivor(run, desired, survivor, grant_types, done)
        except CreatioError as exc:
            settled.append((creation, survivor, done, None, exc))
            continue
        settled.append((creation, survivor, done, outcome, None))
    return settled


def _race_survivor(run, name, new_client_id, found):
    """The read back by name (``found``, None when the site cannot be read) after creating: separate
    facts caches (two controllers, concurrent AWX jobs) can both create the same name. When there are
    several, the oldest (CreatedOn, then Id) stays; every run applies the same rule, so exactly one
    survives. None when this run's creation is the one that stays, or when nothing can be told."""
    same = [r for r in found or [] if r.name == name]
    if len(same) < 2:
        return None
    survivor = oldest_of(same)
    if not survivor.client_id or not [r for r in same if r.has_client_id(new_client_id)]:
        # A row without a client id (or a read that does not show this run's creation) cannot be
        # told apart from this run's own: nothing is deleted on a guess, and the user is told.
        run.warn('integration %r: the read back after creating lists %d integrations with that name, and not every one '
                 'with a client id, so whether another run created it at the same time cannot be told: this run keeps its '
                 'own (client id %s); if Creatio has several, delete the extra ones there' % (name, len(same), new_client_id))
        return None
    return None if survivor.has_client_id(new_client_id) else survivor


def recheck_own_creations(run, creations):
    """This run's own creations (OwnCreation) read back once more, with one OData read, when every
    rival that can tie with them has landed (it waits until then), and the rule of the read back
    applied again: [(creation, survivor)] for each that is not the survivor, so that this run gives
    way (give_way). Where the read fails, it says that nothing can be told."""
    if not creations:
        return []
    wait = max(c.settled_at() for c in creations) - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    names = sorted(set(c.name for c in creations))
    try:
        found = run.reader.records(names=names)
    except CreatioError as exc:
        run.warn('the integrations this run created (%s) could not be read back once more (%s), so whether another run '
                 'created one of them at the same time cannot be told; if Creatio has one twice, delete the newer one there'
                 % (', '.join(names), run.scrub(exc).full_message()))
        return []
    lost = []
    for creation in creations:
        listed = [r for r in found or [] if r.name == creation.name and r.has_client_id(creation.client_id)]
        survivor = _race_survivor(run, creation.name, creation.client_id, found) if listed else None
        if survivor is not None:
            lost.append((creation, survivor))
    return lost


def give_way(run, creation):
    """Delete this run's own creation, found not to be the survivor by recheck_own_creations; returns
    the operations done (the facts cache forgets the name: the caller adopts the survivor)."""
    outcome = Outcome(None)
    _give_way(run, creation.name, creation.client_id, outcome)
    return outcome.done


def _give_way(run, name, new_client_id, outcome):
    """Delete this run's own creation: the other run's integration is the one that stays."""
    operation = planner.Operation('DeleteClient', {}, 'delete integration %s (client id %s): another run created it '
                                  'at the same time, and that one stays' % (name, new_client_id),
                                  on_client=True, client_id=new_client_id)
    _send(run, name, operation, operation.request(), outcome)
    outcome.done.append(operation.as_dict())
    outcome.secret = None  # the secret of a deleted client: worth nothing, never returned
    run.remember(name, None)


def _send(run, name, operation, request, outcome):
    """One call; returns (result, effective). Deleting what is already gone is not a change, unless
    the transport had to repeat the call: then "does not exist" may answer our own lost first try."""
    client = run.client
    retries_before = client.transport.retries_done
    try:
        return client.call(operation.call, request), True
    except BusinessError as exc:
        if exc.site_wide:
            raise
        # Creatio words its answers in the site's language: whether the target is gone is settled by
        # reading it back, not by matching English. English "does not exist" decides only where the
        # site cannot be read.
        gone = _gone(run, operation, request, exc) or (
            operation.call == 'DeleteRedirectUrl' and _redirect_row_gone(run, request, outcome))
        if gone and operation.call in ('DeleteRedirectUrl', 'DeleteClient'):
            return {}, client.transport.retries_done > retries_before
        if gone and operation.call == 'UpdateClient':
            raise RecordNotFoundError(
                'integration %r is gone from Creatio (deleted meanwhile), so it cannot be updated' % name,
                call='UpdateClient', status=exc.status, creatio_message=exc.creatio_message,
                hint='a re-run creates it again (the facts cache still knows it: it reads Creatio first)')
        raise
    except (TransportError, HttpError, UnreadableAnswerError) as exc:
        if _redirect_methods_missing(run, operation, exc):
            raise ConfigurationError(
                '%s answered HTTP 404 (%s) after a good login: %s has no redirect URI methods (Creatio before 8.3), '
                'although the facts cache took it for 8.3' % (operation.call, exc.creatio_message or 'not found', run.site),
                option='redirect_urls', hint='the facts cache now says so: re-run (before 8.3 an integration has one redirect '
                                             'URI, its redirectUrl, and a system user)')
        if operation.call == 'AddClient' and _answer_may_be_lost(exc):
            return _settle_lost_add_client(run, name, operation, request, exc, outcome), True
        if operation.call == 'AddRedirectUrls' and _answer_may_be_lost(exc):
            settled = _settle_lost_add_redirect_urls(run, name, operation, request, exc, outcome)
            if settled is not None:
                return settled, True
            if run.facts.redirect_entity() is not None:
                hint = ('they were not recorded: the next run reads the redirect URIs this site lists and adds only the '
                        'missing ones (a re-run is safe)')
            elif run.facts.authorize_probe().endpoint() is not None:
                hint = ('they were not recorded: the next run asks the identity service\'s authorization endpoint which of '
                        'them are registered and adds only the missing ones (a re-run is safe)')
            else:
                hint = ('this site does not list redirect URIs, so they were not recorded: a re-run adds them again, which '
                        'may leave a duplicate row per URI (harmless; delete extras on the integration page)')
            raise LostAnswerError(
                'AddRedirectUrls for %r: %s; Creatio may or may not have added %s'
                % (name, exc.message, ', '.join(operation.payload['redirectUrls'])),
                call='AddRedirectUrls', status=exc.status, hint=hint)
        raise


def _gone(run, operation, request, exc):
    """Whether the target of a refused call no longer exists, from evidence: the client read back
    through OData (DeleteClient, UpdateClient); otherwise Creatio's English text (a record id)."""
    client_id = request.get('clientId')
    if operation.call in ('DeleteClient', 'UpdateClient') and client_id:
        try:
            found = run.reader.records(client_ids=[client_id])
        except CreatioError:
            found = None
        if found is not None:
            return not [r for r in found if r.has_client_id(client_id)]
    if operation.call == 'DeleteRedirectUrl':
        entity = run.facts.redirect_entity()
        if entity is not None:
            try:
                rows = run.client.odata_rows(entity.name, ('Id',), quote('Id eq %s' % request['redirectUrlId'], safe=''))
                return not rows
            except CreatioError:
                pass
    return isinstance(exc, RecordNotFoundError)


def _settle_lost_add_redirect_urls(run, name, operation, request, first_error, outcome):
    """AddRedirectUrls' answer is lost: read the client's redirect URIs back where the site lists
    them. All there: done, with their ids (the result AddRedirectUrls would have given). Otherwise the
    list as it stands is kept, and the failure says which are missing (a re-run adds those only).
    None when the list cannot be read, or Creatio may still be working on the call (no answer in time)."""
    if _may_still_be_running(first_error):
        return None
    try:
        found = run.reader.records(client_ids=[request['clientId']])
        match = [r for r in found or [] if r.has_client_id(request['clientId'])]
        rows = run.facts.redirect_rows(match[0].app_id) if match else None
    except CreatioError:
        rows = None
    if rows is None:
        return _settle_lost_add_redirect_urls_by_probe(run, name, operation, request, first_error, outcome)
    there = dict((r.url, r.id) for r in rows)
    missing = [u for u in operation.payload['redirectUrls'] if u not in there]
    if not missing:
        return {'redirectUrls': [{'id': there[u], 'redirectUrl': u} for u in operation.payload['redirectUrls']]}
    outcome.record = outcome.record.copy(redirect_urls=rows)
    run.remember(name, outcome.record)
    raise LostAnswerError(
        'AddRedirectUrls for %r: %s; read back, Creatio does not have %s' % (name, first_error.message, ', '.join(missing)),
        call='AddRedirectUrls', status=first_error.status,
        hint='the facts cache now holds the redirect URIs as Creatio lists them: a re-run adds only the missing ones')


def _is_text(value):
    return isinstance(value, TEXT_TYPES) and bool(value)


def _settle_lost_add_redirect_urls_by_probe(run, name, operation, request, first_error, outcome):
    """AddRedirectUrls' answer is lost on a site that does not list redirect URIs: the identity service's
    authorization endpoint tells, URI by URI, whether each is registered now (ids stay unknown). All
    there: done. None there: not added, so sent once more (the first one that counts). Some: the facts
    cache records those, and the failure names the missing ones (a re-run adds those only). None when
    the endpoint cannot tell."""
    urls = operation.payload['redirectUrls']
    found = run.facts.authorize_probe().registered_of(request['clientId'], urls)
    if found is None:
        return None
    missing = [u for u in urls if not found[u]]
    if not missing:
        return {'redirectUrls': [{'id': None, 'redirectUrl': u} for u in urls]}
    if len(missing) == len(urls):
        return run.client.call(operation.call, request)
    added = planner.Operation('AddRedirectUrls', {'redirectUrls': [u for u in urls if found[u]]}, '')
    outcome.record = planner.apply(outcome.record, added)
    run.remember(name, outcome.record)
    raise LostAnswerError(
        'AddRedirectUrls for %r: %s; the authorization endpoint shows %s not registered' % (name, first_error.message, ', '.join(missing)),
        call='AddRedirectUrls', status=first_error.status,
        hint='the facts cache now holds the ones that are registered: a re-run adds only the missing ones')


def _redirect_row_gone(run, request, outcome):
    """Whether the redirect URI that DeleteRedirectUrl was refused for is no longer registered, asked of
    the authorization endpoint by its URI (the facts cache knows which URI the id is): evidence in any
    language, where the site does not list its rows."""
    record = outcome.record
    url = next((r.url for r in (record.redirect_urls if record else None) or [] if r.id == request.get('redirectUrlId')), None)
    if not url or not record.client_id or [r for r in record.redirect_urls if r.url == url and r.id != request.get('redirectUrlId')]:
        return False  # another row holds the same URI: the endpoint cannot tell this one apart
    return run.facts.authorize_probe().registered(record.client_id, url) is False


def _redirect_methods_missing(run, operation, exc):
    """A redirect URI method that the site does not have (HTTP 404 after a good login, at a confirmed API
    root): decisive evidence of a site before 8.3, kept in the facts cache over what it said."""
    if (operation.call in ('AddRedirectUrls', 'UpdateRedirectUrl', 'DeleteRedirectUrl') and isinstance(exc, HttpError)
            and exc.status == api.METHOD_ABSENT_STATUS and run.client.platform):
        run.facts.redirect_methods_missing(operation.call)
        return True
    return False


def _answer_may_be_lost(exc):
    if isinstance(exc, UnreadableAnswerError):
        return True  # an answer came, and says nothing that can be read: Creatio may have acted
    if isinstance(exc, TransportError):
        return exc.may_have_reached_server
    return exc.status is not None and (exc.status >= 500 or exc.status == 429)


def _may_still_be_running(exc):
    if isinstance(exc, TransportError):
        return exc.timed_out
    return exc.status == 504


def _pending(run, name, operation, first_error, what, next_run):
    """Mark ``name`` pending in the facts cache (an AddClient whose outcome nobody knows) and say so."""
    run.remember(name, planner.apply(None, operation).copy(client_id=None, pending=True))
    return LostAnswerError('AddClient for %r: %s; %s' % (name, first_error.message, what), call='AddClient',
                           status=first_error.status,
                           hint='a re-run is safe: the facts cache marks %r as pending, %s' % (name, next_run))


def _settle_lost_add_client(run, name, operation, request, first_error, outcome):
    """AddClient's answer is lost. Never send it again blindly: read back by name, then decide."""
    try:
        found = run.reader.records(names=[name])
    except CreatioError:
        found = None
    if found is None:
        raise _pending(run, name, operation, first_error, 'the integration cannot be read back to see whether it was created',
                       'so no run creates it again before Creatio confirms whether it exists')
    same_name = [r for r in found if r.name == name]
    if not same_name and isinstance(first_error, UnreadableAnswerError):
        # An answer came that cannot be read: whether what Creatio did is what the read shows is not
        # known (it may store the name otherwise), so "not there" is no licence to send it again.
        raise _pending(run, name, operation, first_error, 'the integration is not there when read back, and AddClient was '
                       'not sent again', 'and the next run reads it back before it creates anything')
    if not same_name and _may_still_be_running(first_error):
        # No answer in time (our timeout, or a gateway's 504): Creatio may still be creating it, so
        # "not there yet" is not "not created", and sending AddClient again could make a second one.
        raise _pending(run, name, operation, first_error, 'Creatio may still be creating the integration, so it was not '
                       'sent again', 'and the next run reads it back before it creates anything; raise request_timeout '
                       'if Creatio is this slow')
    if not same_name:
        # Confirmed not created: one more AddClient is the first one that counts.
        return run.client.call(operation.call, request)
    if len(same_name) == 1 and same_name[0].client_id:
        outcome.record = planner.apply(None, operation, client_id=same_name[0].client_id)
        run.remember(name, outcome.record)
        outcome.done.append(operation.as_dict())  # the failure reports the creation: changed
        where = ('was not in an answer the collection could read, so it is lost'
                 if isinstance(first_error, UnreadableAnswerError) else 'was in the lost answer')
        raise LostAnswerError(
            'AddClient for %r: %s, but Creatio did create the integration (client id %s); its client secret %s, and '
            'Creatio never shows a secret again' % (name, first_error.message, same_name[0].client_id, where),
            call='AddClient', status=first_error.status,
            hint='it is now in the facts cache, so a re-run reports it unchanged; to get a usable secret, run once with '
                 'state: absent and then again (the client id changes)')
    if len(same_name) == 1:
        raise _pending(run, name, operation, first_error, 'Creatio lists an integration with that name but shows no client '
                       'id for it, so whether this run created it is unknown', 'and the next run reads it back before it '
                       'creates anything')
    raise LostAnswerError('AddClient for %r: %s, and Creatio now has %d integrations with that name'
                          % (name, first_error.message, len(same_name)), call='AddClient',
                          hint='delete the extra ones in Creatio (client ids %s)'
                          % ', '.join(r.client_id or '(not shown)' for r in same_name))
