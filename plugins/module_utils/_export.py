# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Export of a site's integrations as code: the
integrations that creatio_oauth_client_info lists, as items of the integrations role's
``creatio_integrations`` list, so that they apply to another site as they are.

``integrations`` is pure; ``site_as_code`` adds the names of the system users where the site lets
them be read (OData SysAdminUnit). The presets come from _rules.PRESETS (the one copy). Never a
secret: an item holds only what the role declares, and the role declares no client id or secret.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._odata import filter_chunks, odata_quote

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa: F401

# Integrations the cache still lists but Creatio no longer has are not part of the site.
NOT_ON_THE_SITE = ('cache-only',)


def preset_of(grant_type, application_url):
    """The preset an integration fits: the grant a preset fixes, and the application URL it gives by
    default (so that the item may leave it out). None when none fits (the item is then ``custom``).
    A preset without a default application URL (webhooks) is never recognised: nothing tells such an
    integration apart from any other of its grant."""
    for name in rules.PRESET_NAMES:
        preset = rules.PRESETS[name]
        default = preset.defaults.get('application_url')
        if preset.grant_type and preset.grant_type == grant_type and default and default == application_url:
            return preset
    return None


def grant_of(entry):
    """The grant of a listed integration (Creatio's OData does not show it: a system user means client credentials)."""
    if entry.get('grant_type') in rules.GRANT_TYPES:
        return entry['grant_type']
    return 'client_credentials' if entry.get('system_user_id') else 'authorization_code'


def item_of(entry, user_names=None):
    """(the role's item for one listed integration, the problems that keep it from applying as it is).
    ``user_names``: {user id: name} of the system users known by a name that only they have."""
    name = entry['name']
    grant = grant_of(entry)
    application_url = entry.get('application_url')
    preset = preset_of(grant, application_url)
    item = {'name': name, 'preset': preset.name if preset else 'custom'}
    problems = []
    if preset is None:
        item['grant_type'] = grant
        item['application_url'] = application_url
    if grant == 'client_credentials':
        user_id = entry.get('system_user_id')
        if user_id and (user_names or {}).get(str(user_id).lower()):
            item['system_user'] = user_names[str(user_id).lower()]  # by name: user ids differ from site to site
        else:
            item['system_user_id'] = user_id
    else:
        urls = sorted(row['url'] for row in entry.get('redirect_urls') or [] if row.get('url'))
        if urls:
            item['redirect_urls'] = urls
        else:
            problems.append('the redirect URIs of %r are not known (Creatio has no list of them that this site lets the '
                            'collection read, and it did not add them): add redirect_urls to its item before applying '
                            'the list to another site' % name)
    if entry.get('active') is False:
        item['active'] = False
    if not application_url:
        problems.append('%r has no application URL in Creatio: set application_url in its item' % name)
    return item, problems


def integrations(entries, warn=None, user_names=None):
    """The site's integrations, as the role's ``creatio_integrations`` items, sorted by name.

    ``entries``: what creatio_oauth_client_info lists (``clients``). An integration that is only in
    the cache (no longer in Creatio) is left out; of several with one name (Creatio does not refuse
    them) the first by client id is exported. ``warn(text)`` is told each problem. ``user_names``:
    {user id: name} of the system users to name (``system_user``) rather than give by id."""
    items, seen = [], {}
    for entry in sorted(entries, key=lambda e: (e.get('name') or '', (e.get('client_id') or '').upper())):
        if entry.get('source') in NOT_ON_THE_SITE or not entry.get('name'):
            continue
        if entry['name'] in seen:
            if warn:
                warn('Creatio has more than one integration named %r: only the one with client id %s is exported (the '
                     'role declares each name once); client id %s is left out'
                     % (entry['name'], seen[entry['name']], entry.get('client_id')))
            continue
        seen[entry['name']] = entry.get('client_id')
        item, problems = item_of(entry, user_names)
        items.append(item)
        for problem in problems:
            if warn:
                warn('export: %s' % problem)
    return items


def site_as_code(run, entries, server):
    """The service part of creatio_oauth_client_info's ``integrations``. ``server``: the Records
    OData answered (None when the site refused the read). Where the site lets them be read, the
    system users are named. The redirect URIs are those of ``entries``: the site's where it shows
    them (list_clients settled them as a run would), else the facts cache's."""
    if server is None:
        return integrations(entries, run.warn)
    return integrations(entries, run.warn, user_names(run, entries))


def user_names(run, entries):
    """{user id: name} of the system users of the exported client credentials integrations whose name
    no other user has (so that ``system_user: <name>`` finds exactly them again, here or on another
    site). Two OData reads of SysAdminUnit (the ids, then their names); {} when the site does not let
    them be read, with a warning: the items then give ``system_user_id``."""
    ids = sorted(set(str(e['system_user_id']).lower() for e in entries
                     if e.get('system_user_id') and e.get('source') not in NOT_ON_THE_SITE and grant_of(e) == 'client_credentials'))
    if not ids:
        return {}
    try:
        names = dict((row_id, name) for row_id, name in _users(run, ['Id eq %s' % user_id for user_id in ids]) if row_id in ids)
        if not names:
            return {}
        wanted = sorted(set(names.values()))
        holders = {}
        for row_id, name in _users(run, ["Name eq '%s'" % odata_quote(n) for n in wanted]):
            for candidate in wanted:
                if (name or '').lower() == candidate.lower():
                    holders.setdefault(candidate, set()).add(row_id)
    except CreatioError as exc:
        run.warn('export: the system users are given by id (system_user_id): their names could not be read (%s)'
                 % run.scrub(exc).full_message())
        return {}
    # Ansible masks the values of no_log options wherever they appear in a result: a user name that holds
    # the password (or the client secret) would come out masked, so that user is given by id.
    secrets = [str(s) for s in run.connection.secrets() if s]
    return dict((user_id, name) for user_id, name in names.items()
                if holders.get(name) == set([user_id]) and not any(secret in name for secret in secrets))


def _users(run, clauses):
    """(id, name) of the user records (SysAdminUnitTypeValue 4) that match any of ``clauses``."""
    suffix = quote(') and SysAdminUnitTypeValue eq %d' % api.USER_UNIT_TYPE, safe='')
    found = []
    for chunk in filter_chunks(clauses, api.ODATA_MAX_FILTER_LENGTH - len(suffix) - 3):
        for row in run.client.odata_rows(api.USERS_ENTITY, ('Id', 'Name'), quote('(', safe='') + chunk + suffix):
            lowered = api.lower_keys(row)
            found.append((str(lowered.get('id')).lower(), lowered.get('name')))
    return found
