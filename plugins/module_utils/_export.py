# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Export of a site's integrations as code: the
integrations that creatio_oauth_client_info lists, as items of the integrations role's
``creatio_integrations`` list, so that they apply to another site as they are.

Pure: no I/O. The presets come from _rules.PRESETS (the one copy). Never a secret: an item holds
only what the role declares, and the role declares no client id or secret.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules

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


def item_of(entry):
    """(the role's item for one listed integration, the problems that keep it from applying as it is)."""
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
        item['system_user_id'] = entry.get('system_user_id')
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


def integrations(entries, warn=None):
    """The site's integrations, as the role's ``creatio_integrations`` items, sorted by name.

    ``entries``: what creatio_oauth_client_info lists (``clients``). An integration that is only in
    the cache (no longer in Creatio) is left out; of several with one name (Creatio does not refuse
    them) the first by client id is exported. ``warn(text)`` is told each problem."""
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
        item, problems = item_of(entry)
        items.append(item)
        for problem in problems:
            if warn:
                warn('export: %s' % problem)
    return items
