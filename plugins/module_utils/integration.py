# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One integration, declared and applied: the options that declare it, their validation, and the
lookup -> plan -> execute sequence. Shared by creatio_oauth_client (one integration per task) and
creatio_oauth_clients (a list of them in one task), so both decide and act the same way."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import engine, normalize, planner
from ansible_collections.creatio.oauth.plugins.module_utils.connection import identity_url_for_secret_file
from ansible_collections.creatio.oauth.plugins.module_utils.errors import ConfigurationError


def client_argspec():
    """The options that declare one integration (without the connection options)."""
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        grant_type=dict(type='str', choices=list(normalize.GRANT_TYPES)),
        application_url=dict(type='str'),
        system_user_id=dict(type='str'),
        redirect_urls=dict(type='list', elements='str'),
        purge_redirect_urls=dict(type='bool', default=True),
        active=dict(type='bool'),
        client_id=dict(type='str'),
        client_secret_file=dict(type='path'),
    )


def desired_state(params):
    """The declared integration, validated and normalised; raises before any request."""
    grant = params['grant_type']
    desired = {
        'name': normalize.name(params['name']),
        'state': params['state'],
        'grant_type': grant,
        'application_url': normalize.url(params['application_url'], 'application_url') if params['application_url'] is not None else None,
        'system_user_id': normalize.guid(params['system_user_id'], 'system_user_id'),
        'redirect_urls': normalize.redirect_urls(params['redirect_urls']),
        'purge_redirect_urls': params['purge_redirect_urls'],
        'active': params['active'],
        'client_id': normalize.client_id(params['client_id']),
        'client_secret_file': params['client_secret_file'],
    }
    if desired['state'] == 'absent':
        return desired
    if grant == 'authorization_code' and desired['system_user_id']:
        raise ConfigurationError('system_user_id only applies to grant_type client_credentials', option='system_user_id',
                                 hint='remove system_user_id: an authorization_code integration acts as the user who signs in')
    if grant == 'client_credentials' and desired['redirect_urls'] is not None:
        raise ConfigurationError('redirect_urls only apply to grant_type authorization_code', option='redirect_urls',
                                 hint='remove redirect_urls: a client_credentials integration has no redirects')
    if grant == 'client_credentials' and not desired['system_user_id']:
        raise ConfigurationError('system_user_id is required with grant_type client_credentials', option='system_user_id',
                                 hint='give the Id of the technical user the integration acts as')
    if desired['redirect_urls'] == []:
        raise ConfigurationError('redirect_urls is an empty list', option='redirect_urls',
                                 hint='list at least one URI: an authorization_code integration without one rejects every '
                                      'authorization request (omit the option to leave the URIs alone)')
    return desired


def read_ahead(run, declared):
    """One OData read for the lookups of all ``declared`` integrations (engine.ServerSnapshot),
    instead of one per integration. Integrations the cache answers alone are not asked for."""
    queries = []
    for desired in declared:
        cached = engine.cached_record(run, desired['name'])
        queries.append((desired['name'], cached, engine.server_query(
            desired['name'], cached, desired['client_id'], run.params['verify'], desired['state'] == 'absent')))
    run.take_snapshot(queries)


def apply(run, desired):
    """Make one declared integration so (or, in check mode, say what would be done). Returns the
    module result of that integration; raises CreatioError subclasses."""
    name = desired['name']
    secret_file = desired['client_secret_file']
    with run.name_lock(name):
        found = engine.lookup(run, name, client_id=desired['client_id'], verify=run.params['verify'],
                              absent=desired['state'] == 'absent')
        record = found.record
        if record and desired['state'] == 'present':
            record = engine.adopt_redirect_urls(run, record, desired['redirect_urls'])
            if 'server' in found.source:
                run.remember(name, record)  # adopted, or confirmed: confirmed_at moves on (unchanged: hourly, cache.RECONFIRM_AFTER)
        if found.recreate and desired['state'] == 'absent':
            plan = planner.Plan(forget=True)
        else:
            plan = planner.plan_client(desired, record, recreate=found.recreate)
        creates = any(op.call == 'AddClient' for op in plan.operations)
        if creates and secret_file:
            engine.check_secret_file(secret_file)
        before = normalize.diff_view(None if found.recreate else record)

        def save_secret(client_id, secret):
            if secret_file and secret:
                warning = engine.open_folder_warning(secret_file)
                if warning:
                    run.warn(warning)
                engine.write_secret_file(secret_file, {
                    'name': name, 'client_id': client_id, 'client_secret': secret,
                    'token_url': identity_url_for_secret_file(run.params, run.site)})

        outcome = engine.execute(run, name, plan, None if found.recreate else record, on_created=save_secret)
    result = {
        'changed': bool(outcome.done),
        'client': normalize.client_view(outcome.record),
        'operations': outcome.done,
        'source': found.source,
    }
    if outcome.secret:
        result['client_secret'] = outcome.secret
    if run.module._diff:
        result['diff'] = {'before': before, 'after': normalize.diff_view(outcome.record)}
    return result
