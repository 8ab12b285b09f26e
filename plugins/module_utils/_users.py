# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). System users by name: ``system_user`` resolved to
the Id of a user record (OData ``SysAdminUnit``, contract section 4), and, with
``create_system_user``, a technical user created where none of that name exists (CreateTechnicalUser,
Creatio 8.3). Everything is settled before the first integration is written."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils._cache import RECONFIRM_AFTER
from ansible_collections.creatio.oauth.plugins.module_utils._json_file import age_of, now_iso
from ansible_collections.creatio.oauth.plugins.module_utils._odata import odata_quote
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, ReadNotPermittedError

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401


def planned_user_id(name):
    """What a check run shows for the Id of a technical user it would create."""
    return '(Id of the new technical user %s)' % name


def resolve(run, declared, where=None):
    """The users the declarations (``declared``) name by ``system_user``: {name: {'id', 'created'}} (the
    caller makes each declaration's variant with that ``system_user_id``: _integrations.with_system_user).
    Raises before any write when a name is unknown (and not to be created) or names more than one user."""
    wanted = {}
    for index, desired in enumerate(declared):
        if desired.system_user and desired.state == 'present':
            entry = wanted.setdefault(desired.system_user, {'create': False, 'where': []})
            entry['create'] = entry['create'] or bool(desired.create_system_user)
            entry['where'].append(where(index) if where else 'system_user')
    if not wanted:
        return {}
    found = _remembered(run, list(wanted))
    missing = [name for name in wanted if name not in found]
    if missing:
        found.update(_users_named(run, missing))
        _remember(run, dict((name, ids[0]) for name, ids in found.items() if len(ids) == 1 and name in missing))
    resolved, to_create = {}, []
    for name, entry in wanted.items():
        ids = found.get(name, [])
        if len(ids) > 1:
            raise ConfigurationError('%s: %d users are named %r (ids %s)' % (entry['where'][0], len(ids), name, ', '.join(ids)),
                                     option='system_user', hint='give system_user_id, the Id of the one you mean')
        if ids:
            resolved[name] = {'id': ids[0], 'created': False}
        elif entry['create']:
            to_create.append(name)
        else:
            raise ConfigurationError(
                '%s: no user named %r exists on %s' % (entry['where'][0], name, run.site), option='system_user',
                hint='create the technical user first, or set create_system_user: true to have it created; nothing was written')
    if to_create and not run.facts.has_redirect_methods():
        raise ConfigurationError(
            'create_system_user needs Creatio 8.3 or later (CreateTechnicalUser); %s is older, and no user is named %s'
            % (run.site, ', '.join(repr(n) for n in to_create)), option='create_system_user',
            hint='create the technical user in Creatio (System designer > Users), then run again; nothing was written')
    for name in to_create:
        resolved[name] = {'id': _create(run, name), 'created': True}
        _remember(run, {name: resolved[name]['id']} if not run.check_mode else {})
    return resolved


def _remembered(run, names):
    """{name: [id]} of the names the facts cache read from the site less than an hour ago: a user
    record's Id never changes, so a re-run needs no read for them (the cache confirms them hourly)."""
    if run.cache is None:
        return {}
    known = run.cache.site_fact(run.site, 'users') or {}
    found = {}
    for name in names:
        entry = known.get(name) or {}
        age = age_of(entry.get('confirmed_at'))
        if entry.get('id') and age is not None and 0 <= age < RECONFIRM_AFTER:
            found[name] = [entry['id']]
    return found


def _remember(run, ids):
    if run.cache is None or run.check_mode or not ids:
        return
    known = dict(run.cache.site_fact(run.site, 'users') or {})
    stamp = now_iso()
    known.update((name, {'id': user_id, 'confirmed_at': stamp}) for name, user_id in ids.items())
    run.cache.put_site_fact(run.site, 'users', known)


def _users_named(run, names):
    """{name: [user id, ...]} of the user records (SysAdminUnitTypeValue 4) with these names."""
    clauses = ' or '.join("Name eq '%s'" % odata_quote(n) for n in names)
    query = quote('(%s) and SysAdminUnitTypeValue eq %d' % (clauses, api.USER_UNIT_TYPE), safe='')
    try:
        rows = run.client.odata_rows(api.USERS_ENTITY, ('Id', 'Name'), query)
    except ReadNotPermittedError as exc:
        raise ConfigurationError(
            'system_user needs to read the users of the site (OData %s), and %s refused it (HTTP %s)'
            % (api.USERS_ENTITY, run.site, exc.status), option='system_user',
            hint='give system_user_id (the Id of the user record) instead, or let this user read SysAdminUnit')
    found = {}
    for row in rows:
        lowered = api.lower_keys(row)
        found.setdefault(lowered.get('name'), []).append(str(lowered.get('id')).lower())
    return found


def _create(run, name):
    if run.check_mode:
        return planned_user_id(name)
    result = run.client.call('CreateTechnicalUser', {'name': name})
    user_id = api.lower_keys(result).get('systemuserid')
    if not user_id:
        raise ConfigurationError('CreateTechnicalUser for %r answered without a systemUserId' % name,
                                 hint='report this: it is an API assumption of this collection')
    return str(user_id).lower()
