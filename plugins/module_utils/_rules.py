# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API): the domain rules, once.

The grant rules (which options each grant needs and refuses) and the presets of the integrations
role. The modules, the role (through creatio_oauth_clients' ``preset`` key), the docs and the
benchmark all read them from here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import re

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError

GRANT_TYPES = ('client_credentials', 'authorization_code')

# The grant rules, one table: which options an integration of each grant needs and which do not apply
# to it, where they are checked. ``site``: what an integration must end up with on Creatio 8.3 (contract
# section 3: systemUserId goes with client_credentials only, redirect URIs with authorization_code).
# ``before 8.3``: no grant types, every client acts as a system user (required), and its one redirect
# URI is AddClient's / UpdateClient's redirectUrl (SRC 8.1). ``declared``: what the declaration itself
# needs and refuses (system_user_id with authorization_code only by a site that has grant types, since
# older sites need it; the system user of client_credentials may be given by name).
GRANT_RULES_BY_WHERE = {
    'site': {
        'client_credentials': {'required': ('application_url', 'system_user_id'), 'refused': ('redirect_urls',)},
        'authorization_code': {'required': ('application_url', 'redirect_urls'), 'refused': ('system_user_id',)},
    },
    'before 8.3': {
        'client_credentials': {'required': ('application_url', 'system_user_id'), 'refused': ('redirect_urls',)},
        'authorization_code': {'required': ('application_url', 'redirect_urls', 'system_user_id'), 'refused': ()},
    },
    'declared': {
        'client_credentials': {'required': ('system_user_id',), 'refused': ('redirect_urls',)},
        'authorization_code': {'required': (), 'refused': ()},
    },
}
GRANT_RULES = GRANT_RULES_BY_WHERE['site']
GRANT_RULES_BEFORE_8_3 = GRANT_RULES_BY_WHERE['before 8.3']


def grant_rule(grant, given, where='site'):
    """The one check of the grant rules: (the keys grant ``grant`` requires that are not given, the keys it
    refuses that are), by GRANT_RULES_BY_WHERE[``where``]. ``given(key)``: whether the declaration gives
    ``key`` (each caller says what counts: set, or non-empty). An unknown grant: nothing."""
    rule = GRANT_RULES_BY_WHERE[where].get(grant) or {'required': (), 'refused': ()}
    return [key for key in rule['required'] if not given(key)], [key for key in rule['refused'] if given(key)]


NEEDS_8_3 = 'Creatio 8.3 or later'

# What a key is, for the message that says it is missing or does not apply.
KEY_HELP = {
    'application_url': 'the URL of the application that uses the integration',
    'system_user_id': 'the Id of the (technical) user the integration acts as',
    'redirect_urls': 'the authorized redirect URIs, at least one',
    'grant_type': 'client_credentials or authorization_code',
}
REFUSED_HINT = {
    'system_user_id': 'remove system_user_id: an authorization_code integration acts as the user who signs in',
    'redirect_urls': 'remove redirect_urls: a client_credentials integration has no redirects',
}


class Preset(object):

    def __init__(self, name, description, grant_type, defaults=None):
        self.name = name
        self.description = description
        self.grant_type = grant_type  # None: the item gives it (custom)
        self.defaults = defaults or {}


PRESETS = dict((p.name, p) for p in (
    Preset('powerbi', 'Power BI Connector (server to server)', 'client_credentials',
           {'application_url': 'https://app.powerbi.com'}),
    Preset('webhooks', 'webhook service (server to server)', 'client_credentials'),
    Preset('clio', 'Clio (server to server)', 'client_credentials', {'application_url': 'https://app.clio.com'}),
    Preset('outlook_addin', 'Creatio.ai add-in for Outlook (on behalf of a user)', 'authorization_code',
           {'application_url': 'https://outlook.office.com'}),
    Preset('custom', 'any integration, everything explicit', None),
))
PRESET_NAMES = ('powerbi', 'webhooks', 'clio', 'outlook_addin', 'custom')


def other_grant(grant):
    return GRANT_TYPES[1] if grant == GRANT_TYPES[0] else GRANT_TYPES[0]


def check_declared_grant(desired):
    """A present declaration (a Declaration) with its grant: nothing that grant refuses, and a system user
    for client_credentials (without one it could neither be created nor kept as declared)."""
    grant = desired.grant_type
    if not grant:
        return
    missing, refused = grant_rule(grant, lambda key: _declared_value(desired, key) is not None, 'declared')
    for key in refused:
        verb = 'applies' if key == 'system_user_id' else 'apply'
        raise ConfigurationError('%s only %s to grant_type %s' % (key, verb, other_grant(grant)),
                                 option=key, hint=REFUSED_HINT[key])
    if missing:
        raise ConfigurationError('system_user_id (or system_user) is required with grant_type client_credentials',
                                 option='system_user_id',
                                 hint='give the name of the technical user the integration acts as (system_user), or the Id '
                                      'of its user record (system_user_id)')


def _declared_value(desired, key):
    """A key as the declaration's grant rule reads it: the system user may be given by name."""
    if key == 'system_user_id':
        return desired.system_user_id or desired.system_user or None
    return getattr(desired, key)


def check_known_grant(name, desired, grant):
    """What the declaration sets against the grant of the integration as it exists (Creatio 8.3)."""
    for key in grant_rule(grant, lambda key: bool(getattr(desired, key)))[1]:
        verb = 'applies' if key == 'system_user_id' else 'apply'
        raise ConfigurationError('%s only %s to %s integrations; %r uses %s' % (key, verb, other_grant(grant), name, grant),
                                 option=key)


CREATE_NEEDS = {
    'system_user_id': ('system_user_id is required to create a client_credentials integration (%r)',
                       'give the Id of the technical user the integration acts as'),
    'redirect_urls': ('redirect_urls must list at least one URI to create the authorization_code integration %r',
                      'Creatio rejects every authorization request of a client without an authorized redirect URI'),
}


def check_create(desired, grant_types=True):
    """What creating the integration (a Declaration) needs: a grant, and every key its grant requires on
    this site (``grant_types``: Creatio 8.3 or later)."""
    name = desired.name
    missing = [opt for opt in ('grant_type', 'application_url') if not getattr(desired, opt)]
    if missing:
        raise ConfigurationError(
            'integration %r does not exist yet, and creating it needs %s' % (name, ' and '.join(missing)),
            option=missing[0], hint='set %s (the name alone only finds an existing integration)' % ', '.join(missing))
    grant = desired.grant_type
    for key in grant_rule(grant, lambda key: bool(getattr(desired, key)), 'site' if grant_types else 'before 8.3')[0]:
        if not grant_types and key == 'system_user_id':
            raise ConfigurationError(
                '%r needs a system user on this site: before Creatio 8.3 every integration acts as one, whatever its '
                'grant' % name, option='system_user_id',
                hint='give system_user_id (the Id of a user record) or system_user (its name); nothing was written')
        message, hint = CREATE_NEEDS[key]
        raise ConfigurationError(message % name, option=key, hint=hint)
    if grant_types:
        check_known_grant(name, desired, grant)
    elif len(desired.redirect_urls or []) > 1:
        raise_needs_8_3(name, 'more than one redirect URI')


def raise_needs_8_3(name, what):
    raise ConfigurationError(
        '%r: %s needs %s; this site is older (it has no redirect URI methods: one redirect URI per integration, '
        'kept in its redirectUrl)' % (name, what, NEEDS_8_3), option='redirect_urls',
        hint='declare one redirect URI, or upgrade Creatio; nothing was written')


# --- presets -------------------------------------------------------------------------------------

PRESET_KEYS = ('application_url', 'system_user_id', 'system_user', 'create_system_user', 'redirect_urls', 'active')


def expand_preset(item, where):
    """The module options of an item that names a preset, and the problems found in it (every one,
    so that one run shows them all). ``item`` holds the item's options, None for unset."""
    problems = []
    preset = PRESETS.get(item.get('preset'))
    if preset is None:
        return item, ['%s: preset must be one of %s, got %r' % (where, ', '.join(PRESET_NAMES), item.get('preset'))]
    declared = dict((k, v) for k, v in item.items() if v is not None)
    expanded = dict(item)
    if declared.get('grant_type') and preset.grant_type and declared['grant_type'] != preset.grant_type:
        problems.append('%s: grant_type is fixed to %s by the preset (use preset custom for another grant)'
                        % (where, preset.grant_type))
    grant = preset.grant_type or declared.get('grant_type')
    expanded['grant_type'] = grant
    if item.get('state', 'present') != 'present':
        for key in PRESET_KEYS:
            expanded[key] = None
        return expanded, problems
    for key, value in preset.defaults.items():
        if expanded.get(key) is None:
            expanded[key] = value
    if grant is None:
        problems.append('%s: grant_type is required (%s); the preset has no default for it' % (where, KEY_HELP['grant_type']))
        return expanded, problems
    missing = grant_rule(grant, lambda key: (key == 'system_user_id' and bool(expanded.get('system_user')))
                         or expanded.get(key) not in (None, '', []))[0]
    for key in missing:
        problems.append('%s: %s is required (%s); the preset has no default for it' % (where, key, KEY_HELP[key]))
    for key in grant_rule(grant, lambda key: key in declared, 'declared')[1]:
        problems.append('%s: %s does not apply to the %s grant' % (where, key, grant))
    return expanded, problems


# A name made only of these (not starting with a dot) is its own file name, as in earlier versions.
_PLAIN_FILE_NAME = re.compile(r'\A[A-Za-z0-9_-][A-Za-z0-9_.-]*\Z')
# Bytes of a name kept readable in a file name: with the hash, the file name and the partial file
# written beside it (18 bytes longer) stay far below the 255 bytes of most file systems.
MAX_READABLE_FILE_NAME_BYTES = 96


def secret_file_name(name):
    """The file a secrets folder keeps the secret of integration ``name`` in: ``<name>.json`` when the
    name is plain ASCII (letters, digits, ``_.-``) and short; otherwise its letters and digits (any
    script) cut to MAX_READABLE_FILE_NAME_BYTES, ``+`` and 12 hex digits of the SHA-256 of the name.
    ``+`` is never in a plain name, and the hash tells apart names that read alike (``Power BI``,
    ``Power_BI``): no two names share a file."""
    if _PLAIN_FILE_NAME.match(name) and len(name) <= MAX_READABLE_FILE_NAME_BYTES:
        return name + '.json'
    readable = ''
    for char in re.sub(r'[^\w.-]+', '_', name, flags=re.UNICODE).lstrip('.'):
        if len((readable + char).encode('utf-8')) > MAX_READABLE_FILE_NAME_BYTES:
            break
        readable += char
    digest = hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]
    return '%s+%s.json' % (readable, digest)


def legacy_secret_file_name(name):
    """The file name secret_file_name gave up to 0.2.0 (names that read alike shared one, long names
    made names too long for the file system): its files are still found (see _batch.secret_file_of)."""
    return re.sub(r'^[.]', '_', re.sub(r'[^A-Za-z0-9_.-]+', '_', name)) + '.json'
