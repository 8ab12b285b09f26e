# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The report of a batch: one entry per declared
integration in the integrations role's published shape (``creatio_integrations_result``), and the
summary lines the role prints. Never a secret."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.creatio.oauth.plugins.module_utils import _drift as drift

ACTIONS = ('created', 'updated', 'unchanged', 'removed', 'failed', 'adopted')
CHECK_MODE_NOTE = ' (CHECK MODE: nothing was changed; a real run would do this)'


def action_of(result):
    calls = [op['call'] for op in result.get('operations') or []]
    if result.get('failed'):
        return 'failed'
    if rotates(result):
        return 'updated'  # the integration of the name is replaced: its client id and secret change
    if gave_way(result, calls):
        return 'adopted'
    if 'AddClient' in calls:
        return 'created'
    if 'DeleteClient' in calls:
        return 'removed'
    return 'updated' if result.get('changed') else 'unchanged'


def gave_way(result, calls):
    """This run created the integration, then deleted its own creation: another run (another facts cache) created the
    name at the same time, and that one stays (adopted). A re-creation deletes before it adds, never after; with
    rotation, a retired predecessor may be deleted after a creation: there only the deletion's own words count."""
    if 'AddClient' not in calls:
        return False
    after = [op for op in (result.get('operations') or [])[calls.index('AddClient') + 1:] if op.get('call') == 'DeleteClient']
    if not after:
        return False
    return not result.get('rotation') or any('at the same time' in (op.get('summary') or '') for op in after)


def rotates(result):
    rotation = result.get('rotation') or {}
    return bool(rotation.get('rotated') or rotation.get('would_rotate'))


def entry_of(item, result, check_mode):
    action = action_of(result)
    client_id = (result.get('client') or {}).get('client_id')
    if check_mode and action == 'created':
        client_id = None  # a client id exists only once Creatio has created the integration
    entry = {
        'name': item.name,
        'preset': item.preset,
        'state': item.desired.state,
        'grant_type': item.desired.grant_type,
        'client_id': client_id,
        'changed': bool(result.get('changed')),
        'action': action,
        'secret_file': item.secret_file if action == 'created' and not check_mode else None,
        'verified': result.get('verified'),
        'operations': [op['summary'] for op in result.get('operations') or []],
        'fields': ['rotation'] if rotates(result) else drift.fields_of(result.get('operations')),
    }
    if action == 'failed':
        entry['error'] = result.get('msg') or 'failed'
    if result.get('unconfirmed_redirect_urls'):
        entry['unconfirmed_redirect_urls'] = result['unconfirmed_redirect_urls']
    if action != 'failed' and 'compared' in result:
        # What the drift report's "in line" rests on: the declared fields this run compared with the site.
        entry['compared'] = list(result.get('compared') or [])
        entry['not_compared'] = list(result.get('not_compared') or [])
    if result.get('same_name'):
        entry['same_name'] = list(result['same_name'])
    if result.get('rotation'):
        entry['rotation'] = rotation_of(result['rotation'])
    return entry


def rotation_of(rotation):
    """What the published entry keeps of a result's ``rotation``: the age, the next rotation and what was done."""
    keys = ('rotate_after_days', 'created_on', 'age_days', 'next_rotation', 'due', 'reason', 'rotated', 'would_rotate',
            'waiting', 'predecessor', 'rolled_back')
    kept = dict((key, rotation[key]) for key in keys if key in rotation)
    kept['retiring'] = [dict((k, r.get(k)) for k in ('name', 'client_id', 'deactivate_after', 'active'))
                        for r in rotation.get('retiring') or []]
    return kept


def rotation_line(rotation):
    """The summary's line of an integration that rotates: its age and next rotation, or why they are unknown."""
    if rotation.get('age_days') is None:
        return 'rotation: not decided (%s)' % rotation.get('reason')
    line = 'rotation: age %s days, next rotation %s' % (rotation['age_days'], rotation.get('next_rotation') or '-')
    if rotation.get('rotated') or rotation.get('would_rotate') or rotation.get('waiting'):
        line += ' (%s%s)' % ('would rotate: ' if rotation.get('would_rotate') else '', rotation.get('reason'))
    for retiring in rotation.get('retiring') or []:
        line += '; predecessor %s retiring until %s' % (retiring['client_id'], retiring['deactivate_after'])
    return line


def build(declared, results, check_mode, secrets_dir):
    """(entries, summary lines) of a batch."""
    entries = [entry_of(item, result, check_mode) for item, result in zip(declared, results)]
    counts = dict((action, sum(1 for e in entries if e['action'] == action)) for action in ACTIONS)
    lines = ['Creatio OAuth integrations%s: %d created, %d updated, %d unchanged, %d removed, %d failed' % (
        CHECK_MODE_NOTE if check_mode else '', counts['created'], counts['updated'], counts['unchanged'],
        counts['removed'], counts['failed'])
        + (', %d adopted (another run created the same name at the same time: this run deleted its own creation and '
           'adopted that run\'s)' % counts['adopted'] if counts['adopted'] else '')]
    for entry in entries:
        shown_id = entry['client_id'] or ('(new)' if entry['action'] == 'created' else '-')
        verified = '' if entry['verified'] is None else ('  (token verified)' if entry['verified'] else '  (NO TOKEN)')
        lines.append('%-9s %-30s %-14s %-19s %s%s' % (entry['action'], entry['name'], entry['preset'] or '-',
                                                      entry['grant_type'] or '-', shown_id, verified))
        lines.extend('          - ' + summary for summary in entry['operations'])
        if entry.get('unconfirmed_redirect_urls'):
            lines.append('          ! redirect URIs not confirmed, not added: %s (add_unconfirmed_redirect_urls adds them)'
                         % ', '.join(entry['unconfirmed_redirect_urls']))
        elif entry.get('not_compared'):
            lines.append('          ! not compared with the site: %s (%s)'
                         % (', '.join(entry['not_compared']), drift.not_compared_reason(entry)))
        if entry.get('same_name'):
            lines.append('          ! %s' % drift.same_name_reason(entry))
        if entry.get('rotation'):
            lines.append('          %s' % rotation_line(entry['rotation']))
    created = [(item, entry) for item, entry in zip(declared, entries) if entry['action'] == 'created']
    stored = dict((item.name, result['secret_store']['location']) for item, result in zip(declared, results)
                  if result.get('secret_store') and result['secret_store'].get('changed'))
    saved = [item.name for item, _entry in created if item.secret_file]
    unsaved = [item.name for item, _entry in created if not item.secret_file and item.name not in stored]
    if stored:
        lines.append('Client secrets %s the secret store: %s' % (
            'that would be put into' if check_mode else 'put into', ', '.join('%s (%s)' % (n, stored[n]) for n in sorted(stored))))
    if saved:
        lines.append('Client secrets of the new integrations %s to %s (one file per integration, mode 0600): %s' % (
            'would be written' if check_mode else 'written', secrets_dir or 'their client_secret_file', ', '.join(saved)))
    if unsaved and not check_mode:
        lines.append('WARNING: the client secrets of %s were not saved (no secrets folder: creatio_integrations_secrets_dir '
                     'of the role, secrets_dir of the module) and Creatio never shows them again' % ', '.join(unsaved))
    elif unsaved:
        lines.append('Note: no secrets folder is set (creatio_integrations_secrets_dir), so the client secrets of %s '
                     'would not be saved' % ', '.join(unsaved))
    lines.extend(stale_secret_file_lines(results, check_mode))
    return entries, lines


def stale_secret_file_lines(results, check_mode):
    """A line per secret file of a deleted integration that was kept aside to make way for the new one."""
    return ['%s the secret file of the earlier %s (client id %s, which Creatio no longer has): %s -> %s' % (
        'Would keep' if check_mode else 'Kept', r['name'], r['stale_secret_file']['client_id'], r['stale_secret_file']['path'],
        r['stale_secret_file']['kept_as']) for r in results if r.get('stale_secret_file')]
