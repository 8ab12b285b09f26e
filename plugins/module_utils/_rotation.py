# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Rotation of a client secret (issue 23): Creatio has
no call that gives an integration a new secret, so the integration itself is replaced by a successor
with the same settings, and the predecessor is retired.

The order keeps exactly one integration under the declared name and makes every step recognisable
from the site itself (AWX jobs start with an empty facts cache):

1. the predecessor is renamed ``<name> (retired <UTC time>, rotated)`` (UpdateClient ``name``);
2. the successor is created under the declared name (AddClient, its redirect URIs);
3. the successor gets a token from the identity service (client credentials integrations);
4. its secret goes to the secret store (check-and-set over the predecessor's);
5. the predecessor is deactivated once the grace period has passed since the time in its name, and
   deleted by a later run (grace 0: both at once).

A failure at 3 or 4 rolls back: the successor is deleted (only it), the predecessor gets its name back.
A run killed between 1 and 4 leaves a retired predecessor whose successor the store does not hold: the
next run rolls that rotation back the same way (the successor's secret is lost with the killed run),
then decides again. Every step is recorded in the facts cache (site fact ``rotation <name>``) for
the record; what a run decides rests on the site's names and what the store holds.

The decision (``is_due``) is pure; the steps are in ``resume`` and ``rotate_if_due``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _planner as planner
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    ConfigurationError, CreatioError, LostAnswerError, ReadNotPermittedError, RecordNotFoundError)
from ansible_collections.creatio.oauth.plugins.module_utils._executor import RaceLost, execute
from ansible_collections.creatio.oauth.plugins.module_utils._identity import check_token, token_url_of
from ansible_collections.creatio.oauth.plugins.module_utils._odata import odata_quote
from ansible_collections.creatio.oauth.plugins.module_utils._records import same_client

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401

DEFAULT_GRACE_HOURS = 24
STAMP_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
RETIRED_SUFFIX = ' (retired %s, rotated)'
_RETIRED = re.compile(r' \(retired (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ), rotated\)$')
_CREATED_ON = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)')


def argspec():
    """The rotation options of one integration (creatio_oauth_client, and each item of creatio_oauth_clients)."""
    return dict(
        rotate_after_days=dict(type='int'),
        rotation_grace_hours=dict(type='int'),
        rotate_authorization_code=dict(type='bool', default=False),
    )


# --- pure: the decision ----------------------------------------------------------------------------

def utc_now():
    return datetime.datetime.utcnow().replace(microsecond=0)


def parse_stamp(text):
    """A CreatedOn (or the time in a retired name) as a naive UTC datetime; None when it cannot be read.
    ASSUMED: Creatio's OData gives CreatedOn in UTC (``...Z``; an offset is taken into account)."""
    match = _CREATED_ON.match(text or '') if isinstance(text, (str, type(u''))) else None
    if not match:
        return None
    stamp = datetime.datetime(*[int(part) for part in match.groups()])
    offset = re.search(r'([+-])(\d\d):?(\d\d)$', text[19:])
    if offset:
        delta = datetime.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        stamp = stamp - delta if offset.group(1) == '+' else stamp + delta
    return stamp


def is_due(created_on, rotate_after_days, now):
    """(due, next rotation) of an integration created at ``created_on`` (datetime, UTC) that rotates
    after ``rotate_after_days`` days; 0 is due on every run. (None, None) when its age is unknown."""
    if created_on is None or rotate_after_days is None:
        return None, None
    next_rotation = created_on + datetime.timedelta(days=rotate_after_days)
    return (rotate_after_days == 0 or now >= next_rotation), next_rotation


def age_days(created_on, now):
    return round(max(0.0, (now - created_on).total_seconds()) / 86400.0, 2)


def retired_name(name, now):
    return name + RETIRED_SUFFIX % now.strftime(STAMP_FORMAT)


def retired_at(name, candidate):
    """When the integration named ``candidate`` was retired as the predecessor of ``name``; None when it is not one."""
    if not candidate or not candidate.startswith(name + ' (retired '):
        return None
    match = _RETIRED.search(candidate)
    if not match or candidate[:match.start()] != name:
        return None
    return datetime.datetime.strptime(match.group(1), STAMP_FORMAT)


def predecessor_of(candidate):
    """The name whose retired predecessor ``candidate`` is, or None (the export leaves such integrations out)."""
    match = _RETIRED.search(candidate or '')
    return candidate[:match.start()] if match and match.start() > 0 else None


def retirement_step(retired, grace_hours, now, active):
    """What a run does to a predecessor retired at ``retired``: None (in its grace period), 'deactivate'
    (the grace period is over and it is active; grace 0 deletes it too: 'deactivate+delete'), 'delete'."""
    if now < retired + datetime.timedelta(hours=grace_hours):
        return None
    if active is not False:
        return 'deactivate+delete' if grace_hours == 0 else 'deactivate'
    return 'delete'


# --- checks before any request ---------------------------------------------------------------------

def declared(desired):
    """The rotation options of a Declaration (declare), checked; raises on bad input, before any request."""
    days = desired.rotate_after_days
    grace = desired.rotation_grace_hours
    if days is not None and days < 0:
        raise ConfigurationError('rotate_after_days is %d: it must be 0 or more' % days, option='rotate_after_days',
                                 hint='0 rotates on every run (the way to rotate now), N when the integration is N days old')
    if grace is not None and grace < 0:
        raise ConfigurationError('rotation_grace_hours is %d: it must be 0 or more' % grace, option='rotation_grace_hours')
    if days is not None and desired.state == 'present' and desired.grant_type == 'authorization_code':
        refuse_authorization_code(desired)
    return desired


def refuse_authorization_code(desired):
    if not desired.rotate_authorization_code:
        raise ConfigurationError(
            'integration %r is an authorization_code integration: rotating it replaces its client id, and its users may '
            'have to consent again' % desired.name, option='rotate_after_days',
            hint='set rotate_authorization_code: true to rotate it anyway, or remove rotate_after_days')


def wanted(desired):
    return desired.rotate_after_days is not None and desired.state == 'present'


def check_store(run, desired_list, where=None):
    """Rotation needs a secret store (a consumer must be able to pick up the new secret): before any request."""
    if getattr(run, 'secret_delivery', None) is not None:
        return
    for index, desired in enumerate(desired_list):
        if wanted(desired):
            option = '%s.rotate_after_days' % where(index) if where else 'rotate_after_days'
            raise ConfigurationError(
                'integration %r declares rotate_after_days, and rotation needs a secret store: its consumers must be able '
                'to pick up the new secret' % desired.name, option=option,
                hint='set secret_store (the role: creatio_integrations_secret_store), or remove rotate_after_days')


def grace_hours_of(run, desired):
    grace = desired.rotation_grace_hours  # the item's, else the task's (declare)
    return DEFAULT_GRACE_HOURS if grace is None else grace


# --- the steps -------------------------------------------------------------------------------------

def _record_step(run, name, step):
    """The rotation's step in the facts cache (never a secret); None once it is over."""
    if not run.check_mode:
        run.cache.put_site_fact(run.site, 'rotation ' + name, step)


def read_site(run, name):
    """(the integrations named ``name``, [(retired predecessor, retired at)]) from one OData read; None when
    the site refuses the read (rotation is then not decided: warned)."""
    clause = "Name eq '%s' or startswith(Name,'%s')" % (odata_quote(name), odata_quote(name + ' (retired '))
    try:
        rows = run.client.odata_rows(api.ODATA_CLIENTS_ENTITY, api.ODATA_FIELDS, quote(clause, safe=''))
    except ReadNotPermittedError:
        run.warn('integration %r: rotation was not decided: Creatio refused to let this user read OAuthClientApp '
                 'through OData, so the integration\'s age (CreatedOn) and its retired predecessors cannot be seen' % name)
        return None
    records = [api.record_from_odata(row) for row in rows]
    current = [r for r in records if r.name == name]
    retired = [(r, retired_at(name, r.name)) for r in records]
    return current, sorted([pair for pair in retired if pair[1] is not None], key=lambda pair: pair[1])


def _call(run, call, payload, summary, client_id, done):
    """One call on another integration than the one the facts cache knows by the name (a predecessor):
    sent (or, in check mode, only reported) without touching the name's cache entry."""
    operation = planner.Operation(call, payload, summary, on_client=True, client_id=client_id)
    if not run.check_mode:
        try:
            run.client.call(call, operation.request())
        except RecordNotFoundError:
            if call != 'DeleteClient':
                raise
    done.append(operation.as_dict())


def resume(run, desired):
    """Before the lookup of a rotating integration: a rotation a killed or failed run left unfinished is
    rolled back; predecessors whose grace period is over are deactivated or deleted. Returns what the
    run's ``rotation`` result says of them, and the operations done."""
    name = desired.name
    done = []
    state = {'retiring': []}
    site = read_site(run, name)
    if site is None:
        state['decided'] = False
        return state, done
    current, retired = site
    delivery = run.secret_delivery
    now = utc_now()
    if retired:
        newest, stamp = retired[-1]
        held = delivery.store.current_client_id(delivery.path(name))
        successor = current[0] if len(current) == 1 else None
        if successor is not None and same_client(held, successor.client_id):
            pass  # the successor was delivered: the rotation is complete
        elif (len(current) > 1 or (successor is not None and not _created_after(successor, stamp))
              or not _undelivered(run, name, newest, held)):
            raise ConfigurationError(
                'integration %r: %s (client id %s) is a predecessor retired by a rotation, and which integration of the '
                'name is its successor cannot be told (the secret store holds %s); nothing was changed'
                % (name, newest.name, newest.client_id, 'client id %s' % held if held else 'nothing'),
                option='rotate_after_days', hint='look at the integrations of that name in Creatio; delete the ones that '
                                                 'are not in use, then re-run')
        elif not run.check_mode and same_client(held, newest.client_id) and not _fenced(run, name, newest, successor):
            # Another run is delivering that successor now (or has just done so): its rotation is left to it.
            state.update(decided=False, retiring=[], reason='another run is finishing a rotation of it')
            run.warn('integration %r: a rotation started at %s is being finished by another run (the secret store changed '
                     'while this run was about to roll it back): left to that run, nothing was changed; re-run from one '
                     'controller' % (name, stamp.strftime(STAMP_FORMAT)))
            return state, done
        else:
            if not run.check_mode:
                run.warn('integration %r: a rotation started at %s did not finish (its successor was %s): rolled back, '
                         'the predecessor (client id %s) has its name again'
                         % (name, stamp.strftime(STAMP_FORMAT), 'never created' if successor is None else
                            'not delivered to the secret store, client id %s' % successor.client_id, newest.client_id))
            _roll_back(run, name, newest, successor.client_id if successor is not None else None, done)
            state['rolled_back'] = newest.client_id
            retired = retired[:-1]
    grace = grace_hours_of(run, desired)
    for record, stamp in retired:
        step = retirement_step(stamp, grace, now, record.active)
        if step and not run.check_mode and _store_names(run, name, record.client_id):
            run.warn('integration %r: %s (client id %s) is retired by a rotation, but the secret store holds its secret as '
                     'the current one: it is neither deactivated nor deleted (another run may have rolled its rotation back); '
                     'check which integration the consumers use' % (name, record.name, record.client_id))
            step = None
        entry = {'name': record.name, 'client_id': record.client_id, 'retired_at': stamp.strftime(STAMP_FORMAT),
                 'active': record.active, 'deactivate_after': (stamp + datetime.timedelta(hours=grace)).strftime(STAMP_FORMAT)}
        if step and 'deactivate' in step:
            _call(run, 'UpdateClient', {'isActive': False}, 'deactivate %s (client id %s): its grace period is over'
                  % (record.name, record.client_id), record.client_id, done)
            entry['active'] = False
        if step and 'delete' in step:
            _call(run, 'DeleteClient', {}, 'delete %s (client id %s), retired by a rotation' % (record.name, record.client_id),
                  record.client_id, done)
            entry['deleted'] = True
        else:
            state['retiring'].append(entry)
    if not state['retiring'] and not state.get('rolled_back') and retired:
        _record_step(run, name, None)
    return state, done


def _store_names(run, name, client_id):
    """Whether the secret store's document of ``name`` holds ``client_id`` now (an integration no rotation
    retires or deletes: the consumers read its secret). Unknown (the store cannot be read) counts as yes."""
    delivery = run.secret_delivery
    try:
        return same_client(delivery.store.current_client_id(delivery.path(name)), client_id)
    except CreatioError:
        return True


def _fenced(run, name, predecessor, successor):
    """Before another run's unfinished rotation is rolled back (its successor, if any, deleted): the store's document of
    the predecessor written again with check-and-set, so that the other run's delivery, if it is still under
    way, is refused (it expects the version it read before renaming). False when the store changed meanwhile
    (that run delivered, or another one fenced first): nothing may be rolled back then."""
    delivery = run.secret_delivery
    path = delivery.path(name)
    try:
        return delivery.store.fence(path, predecessor.client_id)
    except CreatioError as exc:
        raise ConfigurationError(
            'integration %r: an unfinished rotation (%s) was not rolled back: %s could not be marked first (%s)'
            % (name, 'its successor: client id %s' % successor.client_id if successor is not None else 'no successor yet',
               delivery.store.describe(path), run.scrub(exc).full_message()),
            option='rotate_after_days', hint='re-run once the secret store answers')


def _undelivered(run, name, predecessor, held):
    """Evidence that the rotation away from ``predecessor`` never delivered its successor: the store still holds the
    predecessor, or (a store that held nothing before) the facts cache recorded the rotation short of delivery. A store
    that holds neither may have been emptied after a delivery: then nothing is rolled back on a guess."""
    if same_client(held, predecessor.client_id):
        return True
    step = run.cache.site_fact(run.site, 'rotation ' + name) or {}
    return held is None and same_client(step.get('old_client_id'), predecessor.client_id) and step.get('phase') != 'delivered'


def _created_after(record, stamp):
    created = parse_stamp(record.created_on)
    return created is not None and created >= stamp


def _roll_back(run, name, predecessor, successor_client_id, done):
    """The successor deleted (only it), the predecessor's name given back: the state before the rotation."""
    if successor_client_id:
        _call(run, 'DeleteClient', {}, 'delete %s (client id %s): the rotation is rolled back' % (name, successor_client_id),
              successor_client_id, done)
    _call(run, 'UpdateClient', {'name': name}, 'rename %s back to %s (client id %s): the rotation is rolled back'
          % (predecessor.name, name, predecessor.client_id), predecessor.client_id, done)
    run.remember(name, predecessor.copy(name=name))
    _record_step(run, name, None)


def rotate_if_due(run, desired, record, state, created_now):
    """After the integration is as declared (``record``, read from OData in this run): rotate it when it is
    due. Returns (the ``rotation`` result entry, operations done, the successor's record or None)."""
    name = desired.name
    days = desired.rotate_after_days
    entry = dict(state, rotate_after_days=days)
    if state.get('decided') is False or record is None or not record.exists:
        entry.update(decided=False, due=None,
                     reason=state.get('reason') or 'its age cannot be told: the integration was not read from OData')
        return entry, [], None
    if created_now:
        entry.update(due=False, created_on=None, age_days=0.0, reason='created by this run')
        return entry, [], None
    created = parse_stamp(record.created_on)
    now = utc_now()
    due, next_rotation = is_due(created, days, now)
    if due is None:
        entry.update(decided=False, due=None, reason='its age cannot be told: Creatio showed no readable CreatedOn (%r)'
                     % record.created_on)
        run.warn('integration %r: rotation was not decided: %s' % (name, entry['reason']))
        return entry, [], None
    entry.update(created_on=created.strftime(STAMP_FORMAT), age_days=age_days(created, now),
                 next_rotation=next_rotation.strftime(STAMP_FORMAT))
    if not due:
        entry.update(due=False, reason='%s days old, rotates after %d' % (entry['age_days'], days))
        return entry, [], None
    entry['due'] = True
    entry['reason'] = ('rotate_after_days is 0: every run rotates' if days == 0 else
                       'created %s, %s days ago: older than %d days' % (entry['created_on'], entry['age_days'], days))
    if state['retiring']:
        entry['waiting'] = True
        entry['reason'] += ('; not rotated: its predecessor %s is retiring until %s (never a third integration)'
                            % (state['retiring'][0]['name'], state['retiring'][0]['deactivate_after']))
        return entry, [], None
    if record.grant_type == 'authorization_code':
        refuse_authorization_code(desired)
    if run.check_mode:
        entry['would_rotate'] = True
        run.warn('integration %r would rotate: %s' % (name, entry['reason']))
    successor, done, gave_way_to = _rotate(run, desired, record, now)
    entry['rotated'] = not run.check_mode and gave_way_to is None
    entry['predecessor'] = record.client_id
    if gave_way_to is not None:
        entry.update(gave_way_to=gave_way_to, reason=entry['reason'] + '; another run rotated it at the same time: its '
                     'successor (client id %s) was adopted' % gave_way_to)
    elif grace_hours_of(run, desired) > 0:
        grace = grace_hours_of(run, desired)
        entry['retiring'] = [{'name': retired_name(name, now), 'client_id': record.client_id, 'active': True,
                              'retired_at': now.strftime(STAMP_FORMAT),
                              'deactivate_after': (now + datetime.timedelta(hours=grace)).strftime(STAMP_FORMAT)}]
    entry['created_on'], entry['age_days'] = now.strftime(STAMP_FORMAT), 0.0
    entry['next_rotation'] = (now + datetime.timedelta(days=days)).strftime(STAMP_FORMAT)
    return entry, done, successor


def _rotate(run, desired, record, now):
    """The steps of one rotation (module docstring). Returns (the successor's record, operations, the client id of
    another run's successor this run gave way to, or None)."""
    name = desired.name
    delivery = run.secret_delivery
    grace = grace_hours_of(run, desired)
    if record.grant_type == 'client_credentials':
        token_url_of(run, 'the token check of the rotation of %s (nothing was written to Creatio)' % name)
    delivery.check_before_create(name, record.client_id)  # the store holds the predecessor's secret, or nothing
    predecessor = record.copy(name=retired_name(name, now))
    step = {'phase': 'renaming', 'old_client_id': record.client_id, 'old_app_id': record.app_id,
            'retired_name': predecessor.name, 'started_at': now.strftime(STAMP_FORMAT)}
    _record_step(run, name, step)
    done = []
    _call(run, 'UpdateClient', {'name': predecessor.name}, 'rename %s (client id %s) to %s: it is rotated'
          % (name, record.client_id, predecessor.name), record.client_id, done)
    run.remember(name, None)  # the name is free: the next lookup must not take the predecessor for it
    _record_step(run, name, dict(step, phase='renamed'))
    successor_desired = desired.replace(redirect_urls=desired.redirect_urls if desired.redirect_urls is not None
                                        else (record.known_urls() or None),
                                        grant_type=record.grant_type or desired.grant_type,
                                        application_url=desired.application_url or record.application_url,
                                        system_user_id=desired.system_user_id or record.system_user_id,
                                        active=desired.active)
    plan = planner.plan_client(successor_desired, None)
    new = {}

    def keep_secret(client_id, secret):
        new['client_id'], new['secret'] = client_id, secret
        _record_step(run, name, dict(step, phase='created', new_client_id=client_id))

    try:
        outcome = execute(run, name, plan, None, on_created=keep_secret)
    except RaceLost as lost:
        # Another run (another facts cache) rotated it at the same moment: its successor stays, this run deleted its own.
        raise LostAnswerError(
            'integration %r was rotated at the same time by another run (another facts cache): its successor (client id %s) '
            'stays, and this run deleted its own' % (name, lost.survivor.client_id), call='AddClient',
            hint='re-run: the next run sees the rotation the other run made (its secret is in the store once that run '
                 'delivers it, or it is rolled back)')
    except CreatioError as exc:
        exc.secret = None  # the successor of a rotation that failed is worth nothing: never shown
        if new.get('client_id') or [op for op in getattr(exc, 'done', None) or [] if op['call'] == 'AddClient']:
            exc.hint = 'the next run with rotate_after_days rolls this rotation back (the predecessor keeps working meanwhile)'
            raise
        _roll_back(run, name, predecessor, None, done)
        raise
    done.extend(outcome.done)
    if run.check_mode:
        _retire_at_once(run, name, record, predecessor, grace, done)
        return outcome.record, done, None
    try:
        if outcome.record.grant_type == 'client_credentials':
            check_token(run, new['client_id'], new['secret'], name)
    except CreatioError as exc:
        raise _rolled_back(run, name, predecessor, record, new, done, exc)
    try:
        delivery.deliver_new(name, new['client_id'], new['secret'], as_checked=True)
    except CreatioError as exc:
        # Settled by what the store holds now, never by the error alone: a write whose answer was lost may have
        # landed, and rolling back then would leave the store with the secret of a deleted client.
        held = _held_after_failed_delivery(delivery, name)
        if held is _UNKNOWN:
            exc.secret = None if name in delivery.safe else new['secret']  # kept beside the cache, or shown: never lost
            exc.hint = ('the store could not be read back, so it is not known whether it took the new secret: the next run '
                        'with rotate_after_days finds out and finishes or rolls back this rotation (the old integration '
                        'keeps working meanwhile)')
            exc.done = done
            raise
        if held is not None and not same_client(held, new['client_id']) and not same_client(held, record.client_id):
            # Another run rotated it at the same time and delivered its successor: this run gives way.
            return _give_way(run, name, record, new, held, done, exc), done, held
        if not same_client(held, new['client_id']):
            raise _rolled_back(run, name, predecessor, record, new, done, exc)
        run.warn('integration %r: the secret store reported a failure, but it holds the new secret (client id %s): the '
                 'rotation goes on' % (name, new['client_id']))
    _record_step(run, name, dict(step, phase='delivered', new_client_id=new['client_id']))
    _retire_at_once(run, name, record, predecessor, grace, done)
    return outcome.record, done, None


_UNKNOWN = object()


def _give_way(run, name, record, new, held, done, exc):
    """Another run's successor (client ``held``) is in the store: this run deletes its own successor (only it),
    leaves the predecessor to that run's rotation, and adopts the other successor. Returns its record."""
    exc.secret = None
    _call(run, 'DeleteClient', {}, 'delete %s (client id %s): another run rotated it at the same time, and the secret store '
          'holds that run\'s successor' % (name, new['client_id']), new['client_id'], done)
    run.secret_delivery.forget_kept(name, new['client_id'])  # only once the client is gone: its kept copy is then worth nothing
    _record_step(run, name, None)
    site = read_site(run, name)
    adopted = [r for r in (site[0] if site else []) if same_client(r.client_id, held)]
    if not adopted:
        run.remember(name, None)
        exc.message = ('integration %r: another run rotated it at the same time (the secret store holds its successor, client '
                       'id %s, which %s): this run deleted its own successor (client id %s); the predecessor (client id %s) '
                       'keeps the retired name this run gave it, for that run to retire: %s'
                       % (name, held, 'Creatio does not list under the name' if site is not None else
                          'could not be looked for: Creatio refused the OData read', new['client_id'], record.client_id,
                          exc.message))
        exc.args = (exc.message,)
        exc.done = done
        exc.hint = 're-run from one controller'
        raise exc
    run.remember(name, adopted[0])
    run.warn('integration %r: another run rotated it at the same time and delivered its successor (client id %s) to the secret '
             'store: this run deleted its own successor (client id %s) and adopted that one; the predecessor (client id %s) is '
             'retired by that run' % (name, held, new['client_id'], record.client_id))
    return adopted[0]


def _rolled_back(run, name, predecessor, record, new, done, exc):
    """``exc`` after the rotation is rolled back: the successor deleted, the predecessor's name given back."""
    exc.secret = None
    _roll_back(run, name, predecessor, new['client_id'], done)
    if new.get('client_id'):
        run.secret_delivery.forget_kept(name, new['client_id'])  # only once the successor is gone (a failed delete keeps it)
    exc.message = ('integration %r: the rotation was rolled back (the new integration deleted, the old one, client id '
                   '%s, kept its name and secret): %s' % (name, record.client_id, exc.message))
    exc.args = (exc.message,)
    exc.done = done
    return exc


def _held_after_failed_delivery(delivery, name):
    """The client id the store holds for ``name`` now (None for nothing), or _UNKNOWN when it cannot be read."""
    try:
        return delivery.store.current_client_id(delivery.path(name))
    except CreatioError:
        return _UNKNOWN


def _retire_at_once(run, name, record, predecessor, grace, done):
    if grace != 0:
        return
    if not run.check_mode and _store_names(run, name, record.client_id):
        run.warn('integration %r: the secret store holds the secret of the predecessor (client id %s) again: it is not '
                 'deleted (another run may have rolled this rotation back)' % (name, record.client_id))
        return
    _call(run, 'UpdateClient', {'isActive': False}, 'deactivate %s (client id %s): rotation grace is 0'
          % (predecessor.name, record.client_id), record.client_id, done)
    _call(run, 'DeleteClient', {}, 'delete %s (client id %s), retired by a rotation' % (predecessor.name, record.client_id),
          record.client_id, done)
    _record_step(run, name, None)
