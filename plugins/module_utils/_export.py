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

import json
import re

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils._errors import CreatioError
from ansible_collections.creatio.oauth.plugins.module_utils._lookup import oldest_of
from ansible_collections.creatio.oauth.plugins.module_utils._odata import filter_chunks, odata_quote
from ansible_collections.creatio.oauth.plugins.module_utils._records import client_key
from ansible_collections.creatio.oauth.plugins.module_utils._rotation import predecessor_of

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
    urls = sorted(row['url'] for row in entry.get('redirect_urls') or [] if row.get('url'))
    if grant == 'client_credentials' and urls:
        # Only before Creatio 8.3: no grant types, every client acts as a system user (so the grant was
        # inferred as client credentials) and keeps its one redirect URI in RedirectUrl. What makes such
        # a client again on such a site is authorization_code with both (GRANT_RULES_BEFORE_8_3).
        grant = 'authorization_code'
    preset = preset_of(grant, application_url)
    item = {'name': name, 'preset': preset.name if preset else 'custom'}
    problems = []
    if preset is None:
        item['grant_type'] = grant
        item['application_url'] = application_url
    user_id = entry.get('system_user_id')
    if grant == 'client_credentials' or user_id:
        if user_id and (user_names or {}).get(str(user_id).lower()):
            item['system_user'] = user_names[str(user_id).lower()]  # by name: user ids differ from site to site
        else:
            item['system_user_id'] = user_id
    if grant == 'authorization_code':
        if urls:
            item['redirect_urls'] = urls
        else:
            problems.append(UNKNOWN_REDIRECT_URIS)
    if entry.get('active') is False:
        item['active'] = False
    if not application_url:
        problems.append(NO_APPLICATION_URL)
    return item, problems


# What keeps an exported item from applying as it is: (problem, warning about the integrations that have it).
UNKNOWN_REDIRECT_URIS = 'redirect_urls'
NO_APPLICATION_URL = 'application_url'
PROBLEM_WARNINGS = (
    (UNKNOWN_REDIRECT_URIS, 'the redirect URIs of %s are not known (Creatio has no list of them that this site lets the '
                            'collection read, and it did not add them): add redirect_urls to their items before applying '
                            'the list to another site'),
    (NO_APPLICATION_URL, '%s have no application URL in Creatio: set application_url in their items'),
)
# A site may have thousands of integrations with one problem: one warning names the count and the first few.
NAMED_IN_A_WARNING = 5


def _first_few(texts):
    return '; '.join(texts[:NAMED_IN_A_WARNING]) + ('; and %d more' % (len(texts) - NAMED_IN_A_WARNING)
                                                    if len(texts) > NAMED_IN_A_WARNING else '')


def taken_client_ids(records):
    """{name: client id} of the integration a run takes (_lookup.oldest_of), for each name that several
    of ``records`` (read from OData) share."""
    by_name = {}
    for record in records or []:
        if record.name:
            by_name.setdefault(record.name, []).append(record)
    return dict((name, oldest_of(same).client_id) for name, same in by_name.items() if len(same) > 1)


def named(names):
    """``names`` for a warning: all of them when few, else the count and the first few."""
    shown = ', '.join(repr(n) for n in names[:NAMED_IN_A_WARNING])
    if len(names) <= NAMED_IN_A_WARNING:
        return '%d integration(s) (%s)' % (len(names), shown)
    return '%d integrations (%s and %d more)' % (len(names), shown, len(names) - NAMED_IN_A_WARNING)


def integrations(entries, warn=None, user_names=None, taken=None):
    """The site's integrations, as the role's ``creatio_integrations`` items, sorted by name.

    ``entries``: what creatio_oauth_client_info lists (``clients``). An integration that is only in
    the cache (no longer in Creatio) is left out. Of several with one name (Creatio does not refuse
    them) the one a run takes is exported: ``taken`` gives its client id by name (taken_client_ids);
    a name it does not cover is left out, since which one a run would take cannot be told.
    ``warn(text)`` is told each problem. ``user_names``: {user id: name} of the system users to name
    (``system_user``) rather than give by id."""
    on_site = [e for e in entries if e.get('source') not in NOT_ON_THE_SITE and e.get('name')]
    # A predecessor retired by a rotation goes when its grace period is over: it is no integration to declare.
    retired = [e['name'] for e in on_site if predecessor_of(e['name']) in set(x['name'] for x in on_site)]
    on_site = [e for e in on_site if e['name'] not in retired]
    if warn and retired:
        warn('export: left out, retired by a rotation (deleted after their grace period): %s' % named(retired))
    counts = {}
    for entry in on_site:
        counts[entry['name']] = counts.get(entry['name'], 0) + 1
    items, having, left_out, undecided = [], {}, [], []
    for entry in sorted(on_site, key=lambda e: (e['name'], (e.get('client_id') or '').upper())):
        name = entry['name']
        if counts[name] > 1:
            chosen = (taken or {}).get(name)
            if chosen is None:
                if name not in undecided:
                    undecided.append(name)
                continue
            if client_key(entry.get('client_id')) != client_key(chosen):
                left_out.append('%r (client id %s; exported: %s)' % (name, entry.get('client_id'), chosen))
                continue
        item, problems = item_of(entry, user_names)
        items.append(item)
        for problem in problems:
            having.setdefault(problem, []).append(name)
    if warn and left_out:
        warn('Creatio has more than one integration of some names: the one runs take (the oldest) is exported (the role '
             'declares each name once); %d left out: %s' % (len(left_out), _first_few(left_out)))
    if warn and undecided:
        warn('Creatio has more than one integration of some names, and which one a run takes cannot be told here: none '
             'of them is exported: %s' % _first_few([repr(n) for n in undecided]))
    for problem, text in PROBLEM_WARNINGS:
        if warn and having.get(problem):
            warn('export: %s' % (text % named(having[problem])))
    return items


# Ansible takes every string of a variables file it loads (-e @file, host_vars, include_vars) for a
# template; a site's integration named "{{ lookup('pipe', ...) }}" would run on the controller. Every
# string of the document that could be a template is tagged !unsafe (data, never a template).
UNSAFE_TAG = '!unsafe'
# YAML double-quoted scalars: JSON's escapes, plus the characters YAML reads as line breaks or refuses.
_YAML_ESCAPED = re.compile(u'[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]')


def yaml_string(text):
    """``text`` as a YAML scalar that Ansible reads back as the same text and never as a template."""
    quoted = _YAML_ESCAPED.sub(lambda m: '\\u%04x' % ord(m.group(0)), json.dumps(u'%s' % text, ensure_ascii=False))
    # Only a text with a brace or a hash can be a template ({{ }}, {% %}, {# #}, or a #jinja2: header that
    # changes the delimiters). Ansible's !unsafe reads its scalar as if it were plain ("yes" as true,
    # "null" as null), which these texts never are; the others stay quoted strings.
    if '{' in text or '#' in text:
        return '%s %s' % (UNSAFE_TAG, quoted)
    return quoted


def _yaml_value(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return repr(value)
    return yaml_string(value)


def yaml_document(items, site_url=None):
    """The ``creatio_integrations`` variables file of an export: what creatio.oauth.export writes, to
    apply with ``-e @file`` or as host_vars. Items are dicts of strings, booleans and lists of
    strings (item_of); their keys are the role's option names."""
    lines = ['---', '# The OAuth 2.0 integrations of %s, exported by creatio.oauth.export' % (
        _comment(site_url) if site_url else 'a Creatio site'),
        '# for the creatio.oauth.integrations role (no secret). Texts are !unsafe where they could be read as templates.']
    if not items:
        lines.append('creatio_integrations: []')
    else:
        lines.append('creatio_integrations:')
    for item in items:
        marker = '  - '
        for key, value in item.items():
            if isinstance(value, (list, tuple)):
                lines.append('%s%s:%s' % (marker, key, '' if value else ' []'))
                lines.extend('      - %s' % _yaml_value(v) for v in value)
            else:
                lines.append('%s%s: %s' % (marker, key, _yaml_value(value)))
            marker = '    '
    return '\n'.join(lines) + '\n'


def _comment(text):
    """``text`` on one comment line."""
    return re.sub(u'[\x00-\x1f\x7f-\x9f\u2028\u2029]', ' ', u'%s' % text)


def site_as_code(run, entries, server):
    """The service part of creatio_oauth_client_info's ``integrations``. ``server``: the Records
    OData answered (None when the site refused the read). Where the site lets them be read, the
    system users are named. The redirect URIs are those of ``entries``: the site's where it shows
    them (list_clients settled them as a run would), else the facts cache's."""
    if server is None:
        return integrations(entries, run.warn)
    return integrations(entries, run.warn, user_names(run, entries), taken_client_ids(server))


def user_names(run, entries):
    """{user id: name} of the system users of the exported integrations (those that act as one) whose name
    no other user has (so that ``system_user: <name>`` finds exactly them again, here or on another
    site). Two OData reads of SysAdminUnit (the ids, then their names); {} when the site does not let
    them be read, with a warning: the items then give ``system_user_id``."""
    ids = sorted(set(str(e['system_user_id']).lower() for e in entries
                     if e.get('system_user_id') and e.get('source') not in NOT_ON_THE_SITE))
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
