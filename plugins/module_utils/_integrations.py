# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The integrations service: declare one
integration, apply it (lookup -> plan -> execute), and list a site's integrations.

creatio_oauth_client applies one integration per task, creatio_oauth_clients a list (_batch.py),
creatio_oauth_client_info lists them: all through the functions here, so they decide and act alike.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.creatio.oauth.plugins.module_utils import _normalize as normalize
from ansible_collections.creatio.oauth.plugins.module_utils import _planner as planner
from ansible_collections.creatio.oauth.plugins.module_utils import _recovery as recovery
from ansible_collections.creatio.oauth.plugins.module_utils import _rotation as rotation
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_delivery as secret_delivery
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration, Options
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._executor import execute_declared, give_way_where_lost
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import (
    SERVER_FIELDS, lookup, read_listed_redirect_urls, server_query, settle_redirect_urls, unconfirmed_warning)
from ansible_collections.creatio.oauth.plugins.module_utils._records import Record, client_key, diff_view_of, same_client, view_of
from ansible_collections.creatio.oauth.plugins.module_utils._run import error_result
from ansible_collections.creatio.oauth.plugins.module_utils._users import resolve as resolve_system_users


def client_argspec():
    """The options that declare one integration (without the connection options)."""
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        grant_type=dict(type='str', choices=list(rules.GRANT_TYPES)),
        application_url=dict(type='str'),
        system_user_id=dict(type='str'),
        system_user=dict(type='str'),
        create_system_user=dict(type='bool', default=False),
        redirect_urls=dict(type='list', elements='str'),
        purge_redirect_urls=dict(type='bool', default=True),
        active=dict(type='bool'),
        client_id=dict(type='str'),
        client_secret_file=dict(type='path'),
        add_unconfirmed_redirect_urls=dict(type='bool', default=False),
        create_when_unreadable=dict(type='bool', default=False),
        recover_secret=dict(type='bool', default=False),
    )
    spec.update(rotation.argspec())
    return spec


def declare(params, rotation_grace_hours=None):
    """The declared integration (a Declaration), validated and normalised once; raises before any request.
    ``rotation_grace_hours``: the task's, for a declaration that gives none (creatio_oauth_clients)."""
    desired = Declaration(
        name=normalize.name(params['name']),
        state=params['state'],
        grant_type=params['grant_type'],
        application_url=normalize.url(params['application_url'], 'application_url') if params['application_url'] is not None else None,
        system_user_id=normalize.guid(params['system_user_id'], 'system_user_id'),
        system_user=normalize.name(params['system_user'], 'system_user') if params.get('system_user') is not None else None,
        create_system_user=params.get('create_system_user') or False,
        redirect_urls=normalize.redirect_urls(params['redirect_urls'], removing=params['state'] == 'absent'),
        purge_redirect_urls=params['purge_redirect_urls'],
        active=params['active'],
        client_id=normalize.client_id(params['client_id']),
        client_secret_file=params['client_secret_file'],
        add_unconfirmed_redirect_urls=params.get('add_unconfirmed_redirect_urls') or False,
        create_when_unreadable=params.get('create_when_unreadable') or False,
        recover_secret=params.get('recover_secret') or False,
        rotate_after_days=params.get('rotate_after_days'),
        rotation_grace_hours=params.get('rotation_grace_hours'),
        rotate_authorization_code=bool(params.get('rotate_authorization_code')),
    )
    if desired.system_user and desired.system_user_id:
        raise ConfigurationError('system_user and system_user_id name the same thing: give one of them', option='system_user',
                                 hint='system_user is the user name, system_user_id the Id of its user record')
    if desired.create_system_user and not desired.system_user:
        raise ConfigurationError('create_system_user needs system_user (the name of the technical user to create)',
                                 option='create_system_user')
    rotation.declared(desired)
    if desired.rotation_grace_hours is None and rotation_grace_hours is not None:
        desired = desired.replace(rotation_grace_hours=rotation_grace_hours)
    if desired.absent:
        return desired
    rules.check_declared_grant(desired)
    if desired.redirect_urls == []:
        raise ConfigurationError('redirect_urls is an empty list', option='redirect_urls',
                                 hint='list at least one URI: an authorization_code integration without one rejects every '
                                      'authorization request (omit the option to leave the URIs alone)')
    return desired


def with_system_user(desired, users):
    """The declaration with the Id of the system user it names (``users``: what resolve_system_users found)."""
    if desired.system_user and desired.present and desired.system_user in (users or {}):
        return desired.replace(system_user_id=users[desired.system_user]['id'])
    return desired


def apply_one(run):
    """The service of creatio_oauth_client."""
    desired = declare(run.params)
    options = Options.from_params(run.params)
    rotation.check_store(run, [desired])
    delivery = getattr(run, 'secret_delivery', None)
    if delivery is not None and desired.present and desired.create_system_user:
        delivery.store.check_usable(delivery.path(desired.name))  # before the user is created: the first write
    users = resolve_system_users(run, [desired])
    desired = with_system_user(desired, users)
    created = []
    result = apply(run, desired, users, created, options)
    settle_own_creations(run, created, {desired.name: result})
    return result


def _has_redirect_uris(desired, record):
    return (desired.grant_type == 'authorization_code' or desired.redirect_urls is not None
            or (record is not None and record.grant_type == 'authorization_code'))


def lookup_query(run, desired, options=None):
    """(name, cache entry, what its lookup would ask Creatio): for a batch's one read ahead. ``options``:
    the task's (Options; by default, those of the argument spec's defaults)."""
    options = options or Options()
    cached = run.cache.get(run.site, desired.name)
    return desired.name, cached, server_query(desired.name, cached, desired.client_id, options.verify, desired.absent)


class SiteState(object):
    """What the site has for one declaration (step 1 of apply): ``found`` (the lookup), ``record`` (its
    redirect URIs settled from evidence), ``grant_types`` (Creatio 8.3 or later) and ``urls_listed``
    (whether the site showed the record's redirect URI list in this run)."""

    def __init__(self, found, record, grant_types, urls_listed):
        self.found = found
        self.record = record
        self.grant_types = grant_types
        self.urls_listed = urls_listed


class SecretPlan(object):
    """Where the secret of one integration goes, made ready before any write (step 3 of apply): ``settled``
    (a partial or kept secret was settled: a change), ``kept`` (a stale secret file kept aside),
    ``recovered`` (GetClientSecret operations of a secret its destination lacked), ``save`` (what runs
    right after AddClient)."""

    def __init__(self, settled=False, kept=None, recovered=None, save=None):
        self.settled = settled
        self.kept = kept
        self.recovered = recovered if recovered is not None else []
        self.save = save


def apply(run, desired, users=None, created=None, options=None):
    """Make one declared integration so (or, in check mode, say what would be done). Returns the
    module result of that integration; raises CreatioError subclasses. ``users``: what
    resolve_system_users found (its system user, by name). ``created``: a list that gets what
    settle_own_creations needs when this run created the integration and kept it. ``options``: the
    task's (Options, made once by the service's entry point; by default, the argument spec's defaults)."""
    options = options or Options()
    name = desired.name
    with run.name_lock(name):
        rotating = rotation.wanted(desired)
        rotation_state, rotation_done = rotation.resume(run, desired) if rotating else (None, [])
        site = read_site(run, desired, options)
        plan = plan_for(run, desired, site)
        creates = any(op.call == 'AddClient' for op in plan.operations)
        secret = prepare_secret(run, desired, site, creates)
        known = None if site.found.recreate else site.record
        delivery = getattr(run, 'secret_delivery', None)
        known, plan, outcome = execute_declared(run, desired, plan, known, site.grant_types, on_created=secret.save,
                                                on_failure=(lambda exc: delivery.hide_secret(name, exc)) if delivery else None)
        if created is not None and outcome.created is not None:
            created.append((outcome.created, desired, site.grant_types))
        rotated = _after_execution(run, desired, site, secret, outcome, creates, rotation_state)
        rotation_done = rotation_done + (rotated[1] if rotated else [])
    return build_result(run, desired, users, site, plan, secret, outcome, known, creates,
                        rotated[0] if rotated else None, rotation_done)


def read_site(run, desired, options):
    """Step 1: what the site has for the declaration (SiteState): the lookup, the site's version where
    redirect URIs matter, the redirect URIs from evidence; a confirmed record goes to the facts cache.
    Refuses a blind creation when neither the cache nor Creatio can tell whether the integration exists."""
    name = desired.name
    found = lookup(run, name, client_id=desired.client_id, verify=options.verify, absent=desired.absent)
    record = found.record
    present = desired.present
    # The site's version matters where redirect URIs do (before 8.3: one, in redirectUrl): asked
    # then only, once per site (kept in the facts cache).
    grant_types = run.facts.has_redirect_methods() if present and _has_redirect_uris(desired, record) else True
    urls_listed = None
    if record and present:
        urls_listed = site_lists_redirect_urls(run, found, grant_types)
        record = settle_redirect_urls(run, record, grant_types, confirmed=found.confirmed,
                                      declared=desired.redirect_urls, evidence=found.evidence)
        if urls_listed is None:  # read just now, where the site lets its redirect-URI entity be read
            urls_listed = run.facts.redirect_entity() is not None and not run.facts.rows_unreadable
        if record.redirect_urls is None and desired.add_unconfirmed_redirect_urls:
            record.redirect_urls = []  # the user checked the integration page: add what is missing, once
        if found.confirmed:
            run.remember(name, record)  # adopted, or confirmed: confirmed_at moves on (unchanged: hourly)
    if present and record is None and run.reader.readable is False and not desired.create_when_unreadable:
        # Neither the cache nor Creatio can tell whether it exists: creating it blind could make a second one.
        raise ConfigurationError(
            'integration %r is not in the facts cache, and Creatio refused to let this user read its integrations '
            '(OData OAuthClientApp), so nothing can tell whether it exists already; it was not created' % name,
            option='create_when_unreadable',
            hint='grant the user the "Access to OData" system operation (or use a user that has it); or, after checking '
                 'the integrations page in Creatio, set create_when_unreadable: true to create it anyway')
    return SiteState(found, record, grant_types, urls_listed)


def plan_for(run, desired, site):
    """Step 2: the plan (pure, _planner), and a warning for the redirect URIs nobody can confirm."""
    plan = planner.plan_client(desired, site.record, recreate=site.found.recreate, grant_types=site.grant_types)
    if plan.unconfirmed:
        run.warn(unconfirmed_warning(desired.name, plan.unconfirmed))
    return plan


def prepare_secret(run, desired, site, creates):
    """Step 3, before any write: what a killed or failed earlier run left of the secret (a partial file,
    a kept copy) settled; the new secret can be kept (its file, or the secret store); for an integration
    that exists, a kept copy goes to the store (or its secret is read back into it). Returns a SecretPlan."""
    name, path, present, record, found = desired.name, desired.client_secret_file, desired.present, site.record, site.found
    current_client_id = record.client_id if record is not None and record.exists and not creates else None
    secret = SecretPlan()
    # Creatio refused the read and the cache does not know it (create_when_unreadable): which clients exist is unknown.
    known = not (record is None and run.reader.readable is False)
    secret.settled = bool(path and present) and secret_file.settle_partial_files(run, path, name, current_client_id, known)
    kept_in = secret_file.kept_folder(run.cache.path)
    delivery = getattr(run, 'secret_delivery', None)
    if present and delivery is None:
        secret.settled = secret_file.settle_kept_secrets(run, kept_in, path, name, current_client_id, known) or secret.settled
    if present and delivery is not None:
        # Before any write: the store takes the new secret; or, for an integration that exists, a kept copy goes there.
        if creates:
            delivery.check_before_create(name, record.client_id if record is not None and found.recreate else None)
        elif current_client_id:
            secret.settled = delivery.settle(name, current_client_id,
                                             recover=_read_back_into(run, name, record, desired, secret.recovered)) \
                or secret.settled
    if path and creates:
        secret_file.check_can_keep(path, run.check_mode)  # the secret is shown once: nothing is created unless it can be kept
        secret.kept = secret_file.make_way_for_secret_file(run, path, name, record.client_id if record and not found.recreate else None,
                                                           desired.keep_stale_secret_file)

    def save_secret(client_id, new_secret):
        if delivery is not None:
            delivery.deliver_new(name, client_id, new_secret)
        elif path and new_secret:
            warning = secret_file.open_folder_warning(path)
            if warning:
                run.warn(warning)
            document = {'name': name, 'client_id': client_id, 'client_secret': new_secret, 'token_url': run.client.token_url()}
            try:
                secret_file.write_secret_file(path, document)
            except CreatioError as exc:
                raise secret_file.keep_after_failure(run, kept_in, path, document, exc)
    secret.save = save_secret
    return secret


def _after_execution(run, desired, site, secret, outcome, creates, rotation_state):
    """Step 5: a secret an existing integration's destination lacks, read back (recover_secret); the rotation
    when it is due. Returns (the rotation result entry, its operations) when rotating, else None."""
    outcome.done += secret.recovered
    if desired.present and not creates and not secret.settled:  # the secret file of an integration Creatio has, missing: issue 23
        outcome.done += recovery.recover_secret_file(run, desired.name, outcome.record, desired.client_secret_file,
                                                     desired.recover_secret)
    if not rotation.wanted(desired):
        return None
    rotated, done, successor = rotation.rotate_if_due(run, desired, outcome.record, rotation_state,
                                                      outcome.created is not None or creates)
    if successor is not None:
        outcome.record = successor
    return rotated, done


def build_result(run, desired, users, site, plan, secret, outcome, known, creates, rotated, rotation_done):
    """Step 6: the module result of one integration."""
    name, found = desired.name, site.found
    delivery = getattr(run, 'secret_delivery', None)
    result = {
        'changed': bool(outcome.done) or bool(rotation_done) or secret.settled,
        'client': view_of(outcome.record),
        'operations': outcome.done + rotation_done,
        'source': found.source,
    }
    if rotated is not None:
        result['rotation'] = rotated
    if plan.unconfirmed:
        result['unconfirmed_redirect_urls'] = plan.unconfirmed
    result['compared'], result['not_compared'] = compared_with_site(run, desired, found, site.urls_listed and not plan.unconfirmed)
    if found.same_name:
        result['same_name'] = found.same_name
    if desired.system_user and users and desired.system_user in users:
        result['system_user'] = dict(users[desired.system_user], name=desired.system_user)
    summary = run.site_summary()
    if summary:
        result['site'] = summary
    if outcome.secret and delivery is None:
        result['client_secret'] = outcome.secret
        # What a task that hands the secret on needs with it (the role's creatio_integrations_secret_tasks); no request for it.
        result['creatio_url'] = run.site
        result['token_url'] = run.connection.given_token_url or run.connection.cloud_token_url
    stored = delivery.result_of(name, creating=creates) if delivery is not None else None
    if stored:
        result['secret_store'] = stored
    if secret.kept:
        result['stale_secret_file'] = secret.kept
    if run.diff:
        result['diff'] = {'before': diff_view_of(known), 'after': diff_view_of(outcome.record)}
    return result


def _read_back_into(run, name, record, desired, recovered):
    """What the secret store calls when it lacks the secret of ``name``, which Creatio has (``record``): the
    secret read back from Creatio into it with recover_secret (recovery.recover_missing_secret), the operation
    kept in ``recovered``."""
    def recover(save, destination):
        done = recovery.recover_missing_secret(run, name, record, save, destination, desired.recover_secret)
        if done:
            recovered.append(done)
        return done
    return recover


def site_lists_redirect_urls(run, found, grant_types):
    """Whether the site shows the redirect URI list of the record ``found`` (a Lookup), read from OData in
    this run, so that settle_redirect_urls compares it with the site's: True (before 8.3 its RedirectUrl
    column; on 8.3 the rows read ahead), False, or None when that is decided by the read the settling makes."""
    record = found.record
    if not record.app_id:
        return False
    if not grant_types:
        return True
    if record.grant_type != 'authorization_code':
        return False
    return True if found.evidence is not None and found.evidence.listed is not None else None


# The declared fields OData shows (the grant inferred from the system user, see record_from_odata).
FIELDS_ODATA_SHOWS = ('grant_type', 'application_url', 'system_user_id', 'active')


def compared_with_site(run, desired, found, urls_listed):
    """(the declared fields this run compared with the site, those it did not), for the drift report:
    an integration is in line only where every declared field was compared. Whether it exists is
    what an absent one declares, and what one that does not exist yet needs."""
    if desired.absent or found.record is None or found.recreate:
        # Creatio was read and does not have it (none, recreate), or has it (confirmed)
        read = found.confirmed or found.recreate or (found.source == 'none' and run.reader.readable is True)
        return (['state'], []) if read else ([], ['state'])
    declared = [key for key in FIELDS_ODATA_SHOWS if getattr(desired, key) is not None]
    if desired.system_user and 'system_user_id' not in declared:
        declared.append('system_user_id')
    if desired.redirect_urls is not None:
        declared.append('redirect_urls')
    if not found.confirmed:
        return [], sorted(declared)  # the facts cache alone answered (verify: false, or the site refused the read)
    compared = [key for key in declared if key != 'redirect_urls' or urls_listed]
    return sorted(compared), sorted(key for key in declared if key not in compared)


def settle_own_creations(run, created, results):
    """The integrations this run created and kept (``created``, from apply), read back once more when
    a rival's AddClient can have landed (_executor.give_way_where_lost): the read back right after
    creating may have come before it, and CreatedOn may not tell the two apart (a whole-second stamp).
    Where another run's creation is the survivor by the same rule, this run deletes its own (only its
    own), removes the secret file it wrote for it, adopts the survivor, and its result (``results``,
    by name) says so. A failure to delete makes that result failed: Creatio then has the name twice."""
    if run.check_mode or not created:
        return

    withdrawn = {}  # by name: what the secret store took back of a deleted client's delivery

    def take_back_secret(creation, desired, survivor):
        _remove_secret_file_of(desired.client_secret_file, creation.name, creation.client_id)
        withdrawn[creation.name] = secret_delivery.withdraw_after_giving_way(run, creation.name, creation.client_id,
                                                                             survivor.client_id)
    for creation, survivor, done, outcome, exc in give_way_where_lost(run, created, after_giving_way=take_back_secret):
        result = results[creation.name]
        if exc is None and withdrawn.get(creation.name):
            result['secret_store'] = withdrawn[creation.name]
        if exc is not None:
            failure = error_result(exc, run)
            if done:
                result.pop('client_secret', None)  # deleted: the secret is worth nothing
            result.update(failed=True, changed=True, error=failure['error'],
                          operations=result['operations'] + done + (getattr(exc, 'done', None) or []),
                          msg='integration %r: this run created it (client id %s) at the same time as another run (client '
                              'id %s, the one that stays), and %s' % (creation.name, creation.client_id, survivor.client_id,
                                                                      failure['msg']))
            continue
        result.pop('client_secret', None)  # the secret of a deleted client: worth nothing, never returned
        result.update(changed=True, client=view_of(outcome.record), operations=result['operations'] + outcome.done)
        if isinstance(result.get('diff'), dict):
            result['diff']['after'] = diff_view_of(outcome.record)


def _remove_secret_file_of(path, name, client_id):
    """The secret file this run wrote for a client it deleted again: removed, as the read back right
    after creating would never have written it; a file that holds anything else stays."""
    document = secret_file.json_object_in(path) if path else None
    if document and document.get('name') == name and same_client(document.get('client_id'), client_id):
        try:
            os.unlink(path)
        except OSError:
            pass


def list_clients(run):
    """The service of creatio_oauth_client_info: the cache, confirmed and completed by OData."""
    from ansible_collections.creatio.oauth.plugins.module_utils import _export as export  # only the info module lists
    run.facts.recheck_negative = True  # a report: "the site has no redirect-URI entity" is asked again
    name = normalize.name(run.params['name']) if run.params['name'] is not None else None
    cached = dict((n, Record.from_cache(n, entry)) for n, entry in run.cache.clients(run.site).items()
                  if name is None or n == name)
    server = run.reader.records(names=[name] if name is not None else None)
    entries = []
    if server is None:
        entries = [_listed(record, 'cache') for record in cached.values()]
    else:
        on_site = _with_site_redirect_urls(run, server, cached.values())
        by_client_id = dict((client_key(r.client_id), r) for r in cached.values() if r.client_id)
        seen = set()
        for row in server:
            known = by_client_id.get(client_key(row.client_id))
            if known:
                seen.add(known.name)
                merged = known.copy(**dict((k, getattr(row, k)) for k in SERVER_FIELDS + ('app_id',)))
                entries.append(_listed(on_site(merged, row.evidence), 'cache+server'))
            else:
                entries.append(_listed(on_site(row, row.evidence), 'server'))
        entries += [_listed(record, 'cache-only') for n, record in cached.items() if n not in seen]
    entries.sort(key=lambda e: (e['name'] or '', e['client_id'] or ''))
    items = export.site_as_code(run, entries, server)
    return {'changed': False, 'clients': entries, 'odata_readable': server is not None,
            'integrations': items, 'integrations_yaml': export.yaml_document(items, run.site)}


def _with_site_redirect_urls(run, server, cached):
    """A function giving a record on the site the redirect URIs the site shows (the RedirectUrl column
    before 8.3, the redirect-URI entity's rows on 8.3, all read at once), over the facts cache's
    list, as a run would take them (settle_redirect_urls, with the evidence of the OData row). Where the
    site's list cannot be read, or its version cannot be told, records are left as they are. ``cached``:
    the facts cache's records."""
    if not (any(r.grant_type == 'authorization_code' for r in list(server) + list(cached))
            or any(r.evidence.column for r in server)):
        return lambda record, evidence: record  # nothing that has redirect URIs: the site's version is not asked for
    try:
        grant_types = run.facts.has_redirect_methods()
        if grant_types:
            read_listed_redirect_urls(run.facts, server)
    except CreatioError as exc:
        run.warn('the redirect URIs Creatio lists could not be read (%s): those of the facts cache are shown'
                 % run.scrub(exc).full_message())
        return lambda record, evidence: record

    def take_site_list(record, evidence):
        if grant_types and record.grant_type != 'authorization_code':
            return record  # before 8.3 the RedirectUrl column is every client's whole list (SRC)
        return settle_redirect_urls(run, record, grant_types, confirmed=True, evidence=evidence)
    return take_site_list


def _listed(record, source):
    entry = record.view()
    entry['source'] = source
    entry['confirmed_at'] = record.confirmed_at
    return entry
