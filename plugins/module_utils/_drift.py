# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The drift report over many sites: what a check-mode
run of the integrations role found on each site (its published ``creatio_integrations_result``),
classified integration by integration, and written as one table (Markdown) and as JSON.

Pure, but for ``write_report``: no request to any site. Never a secret: the role's published result
holds none, and nothing else is read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, LocalFileError
from ansible_collections.creatio.oauth.plugins.module_utils._json_file import replace_file

# What each action of a check-mode run means for the site.
IN_LINE = 'in line'
WOULD_CREATE = 'would create'
WOULD_UPDATE = 'would update'
WOULD_DELETE = 'would delete'
UNKNOWN = 'unknown'
STATES = (IN_LINE, WOULD_CREATE, WOULD_UPDATE, WOULD_DELETE, UNKNOWN)
BY_ACTION = {'unchanged': IN_LINE, 'created': WOULD_CREATE, 'updated': WOULD_UPDATE, 'removed': WOULD_DELETE,
             'failed': UNKNOWN}

# The field of the declaration each OAuthConfigService call changes: UpdateClient by the members of
# its request, the redirect URI calls the redirect URIs.
UPDATE_CLIENT_FIELDS = {'name': 'name', 'applicationUrl': 'application_url', 'systemUserId': 'system_user_id',
                        'isActive': 'active', 'redirectUrl': 'redirect_urls', 'description': 'description'}
REDIRECT_CALLS = ('AddRedirectUrls', 'UpdateRedirectUrl', 'DeleteRedirectUrl')
SITE_IN_LINE, SITE_DRIFT, SITE_UNKNOWN = 'in line', 'drift', 'unknown'
NOT_LISTED = 'this site does not let the collection read which redirect URIs an integration has'


def fields_of(operations):
    """The declared fields that ``operations`` (a module result's list of {'call', 'request', ...})
    change, sorted; for the published entry of an updated integration."""
    fields = set()
    for operation in operations or []:
        call = operation.get('call')
        if call == 'UpdateClient':
            fields.update(UPDATE_CLIENT_FIELDS.get(key, key) for key in (operation.get('request') or {}) if key != 'clientId')
        elif call in REDIRECT_CALLS:
            fields.add('redirect_urls')
    return sorted(fields)


def not_compared_reason(entry):
    """Why the fields of ``entry['not_compared']`` were not compared with the site."""
    if not entry.get('compared'):
        return 'Creatio was not read for it: the facts cache answered (verify: false, or the site refused the OData read)'
    return NOT_LISTED


def same_name_reason(entry):
    return 'Creatio has %d integrations named %r (client ids %s): which one is declared cannot be told; delete the extra ones ' \
        'in Creatio' % (len(entry['same_name']), entry['name'], ', '.join(entry['same_name']))


def classify_site(site):
    """One site of the report from what the playbook gathered for it.

    ``site``: {'site': inventory name, 'url': its creatio_url, 'declared': [names], 'results': the
    role's creatio_integrations_result (a list) or None, 'error': why the role failed there, or None}.
    Returns {'site', 'url', 'status', 'reason', 'integrations': [{'name', 'state', 'fields',
    'operations', 'reason'}]}: one cell per declared name, in the declared order."""
    results = site.get('results') or []
    by_name = dict((entry.get('name'), entry) for entry in results if isinstance(entry, dict))
    names = list(site.get('declared') or [])
    names += [n for n in by_name if n not in names]
    error = site.get('error')
    cells = []
    for name in names:
        entry = by_name.get(name)
        if entry is None:
            cells.append(_cell(name, UNKNOWN, reason=error or 'no result for this integration'))
            continue
        state = BY_ACTION.get(entry.get('action'), UNKNOWN)
        reason = None
        if state == UNKNOWN:
            reason = entry.get('error') or error or 'no result for this integration'
        else:
            reason = undecided(entry, state)
            if reason:
                state = UNKNOWN
        fields = list(entry.get('fields') or []) if state == WOULD_UPDATE else []
        cells.append(_cell(name, state, fields, entry.get('operations') or [], reason))
        if isinstance(entry.get('rotation'), dict):
            cells[-1]['rotation'] = rotation_of(entry['rotation'])
    states = set(cell['state'] for cell in cells)
    if not cells:
        status = SITE_UNKNOWN if error else SITE_IN_LINE
    elif states == set([IN_LINE]):
        status = SITE_IN_LINE
    elif states - set([IN_LINE, UNKNOWN]):
        status = SITE_DRIFT
    else:
        status = SITE_UNKNOWN
    reasons = sorted(set(cell['reason'] for cell in cells if cell['reason']))
    site_reason = error or (reasons[0] if status == SITE_UNKNOWN and len(reasons) == 1 else None)
    return {'site': site.get('site'), 'url': without_userinfo(site.get('url')), 'status': status, 'reason': site_reason,
            'integrations': cells}


def rotation_of(rotation):
    """The age and next rotation of an integration that rotates (rotate_after_days), from its published entry."""
    return dict((key, rotation.get(key)) for key in ('age_days', 'next_rotation', 'rotate_after_days', 'reason'))


def rotation_text(cell):
    rotation = cell['rotation']
    if rotation.get('age_days') is None:
        return 'rotation not decided (%s)' % rotation.get('reason')
    return 'age %s days, next rotation %s' % (rotation['age_days'], rotation.get('next_rotation') or '-')


def undecided(entry, state):
    """Why a published entry does not decide its cell, or None. "In line" needs evidence: every
    declared field compared with the site; a name Creatio holds more than once decides nothing."""
    if entry.get('same_name'):
        return same_name_reason(entry)
    if state == WOULD_UPDATE:
        return None  # the site differs from the declaration, whatever was not compared
    if entry.get('unconfirmed_redirect_urls'):
        return 'redirect URIs not confirmed: %s (%s)' % (', '.join(entry['unconfirmed_redirect_urls']), NOT_LISTED)
    if 'not_compared' not in entry:
        return 'the result does not say which fields were compared with the site'
    if entry['not_compared']:
        return 'not compared with the site: %s (%s)' % (', '.join(entry['not_compared']), not_compared_reason(entry))
    return None


def _cell(name, state, fields=(), operations=(), reason=None):
    return {'name': name, 'state': state, 'fields': list(fields), 'operations': list(operations), 'reason': reason}


def build_report(sites, generated_at=None):
    """The whole report: every site classified (sorted by name), the integrations (columns, in the
    order first declared) and the counts."""
    rows = sorted((classify_site(site) for site in sites), key=lambda row: str(row['site']))
    columns = []
    for row in rows:
        columns.extend(cell['name'] for cell in row['integrations'] if cell['name'] not in columns)
    counts = dict((state, sum(1 for row in rows for cell in row['integrations'] if cell['state'] == state)) for state in STATES)
    return {
        'generated_at': generated_at or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'sites': rows,
        'integrations': columns,
        'summary': {
            'sites': len(rows),
            'sites_in_line': sum(1 for row in rows if row['status'] == SITE_IN_LINE),
            'sites_with_drift': sum(1 for row in rows if row['status'] == SITE_DRIFT),
            'sites_unknown': sum(1 for row in rows if row['status'] == SITE_UNKNOWN),
            'cells': counts,
        },
    }


def cell_text(cell):
    if cell is None:
        return '-'
    if cell['state'] == WOULD_UPDATE and cell['fields']:
        return '%s (%s)' % (WOULD_UPDATE, ', '.join(cell['fields']))
    return cell['state']


def summary_line(report):
    summary = report['summary']
    return '%d of %d site(s) in line, %d with drift, %d unknown' % (
        summary['sites_in_line'], summary['sites'], summary['sites_with_drift'], summary['sites_unknown'])


def markdown(report):
    """The report as Markdown: the count, one table site x integration, then the details of every
    cell that is not in line (the calls a real run would make, or why it is unknown)."""
    lines = ['# Creatio OAuth integrations: drift report', '',
             'Generated %s by a check-mode run (nothing was written to any site).' % report['generated_at'], '',
             '**%s.**' % summary_line(report), '']
    columns = report['integrations']
    lines.append('| site | status | %s |' % ' | '.join(_md(c) for c in columns) if columns else '| site | status |')
    lines.append('|' + '---|' * (2 + len(columns)))
    for row in report['sites']:
        cells = dict((cell['name'], cell) for cell in row['integrations'])
        row_cells = ''.join(' %s |' % _md(cell_text(cells.get(c))) for c in columns)
        lines.append('| %s | %s |%s' % (_md(row['site']), row['status'], row_cells))
    details = []
    for row in report['sites']:
        reasons = set(cell['reason'] for cell in row['integrations'])
        if row['status'] == SITE_UNKNOWN and len(reasons) == 1 and None not in reasons:
            details.append('- %s: unknown: %s' % (_md(row['site']), _md(reasons.pop())))  # the site as a whole
            continue
        for cell in row['integrations']:
            if cell['state'] == IN_LINE:
                continue
            text = '- %s / %s: %s' % (_md(row['site']), _md(cell['name']), _md(cell_text(cell)))
            if cell['reason']:
                text += ': %s' % _md(cell['reason'])
            details.append(text)
            details.extend('  - %s' % _md(op) for op in cell['operations'])
    if details:
        lines += ['', '## Details', ''] + details
    rotations = ['- %s / %s: %s' % (_md(row['site']), _md(cell['name']), _md(rotation_text(cell)))
                 for row in report['sites'] for cell in row['integrations'] if cell.get('rotation')]
    if rotations:
        lines += ['', '## Rotation', ''] + rotations
    return '\n'.join(lines) + '\n'


# Site data (names, URLs, Creatio's error texts) is text in the report, never markup: the ASCII
# punctuation Markdown gives a meaning to inside a line is escaped with a backslash (no link, image,
# emphasis, code span or table cell can start), and < and & become entities (no tag, no autolink such
# as <javascript:...>, no entity of the site's). Without [ or <, a scheme such as javascript: makes no
# link, and > closes nothing.
# An underscore between two letters or digits (application_url) never starts emphasis: it is left as it is.
_MD_PUNCTUATION = re.compile(r'([\\`*{}\[\]#!|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))')
_HTML_ENTITIES = (('&', '&amp;'), ('<', '&lt;'))
_LINE_BREAKS = re.compile(u'[\r\n\x0b\x0c\x85\u2028\u2029]+')


def _md(text):
    """Text that shows as itself in a Markdown table cell or list item (no markup, no HTML, one line)."""
    text = _MD_PUNCTUATION.sub(r'\\\1', _LINE_BREAKS.sub(' ', u'%s' % text))
    for char, entity in _HTML_ENTITIES:
        text = text.replace(char, entity)
    return text


def without_userinfo(url):
    """``url`` without a user:password@ part (None for none): a report never holds a password."""
    if not url:
        return None
    return re.sub(r'^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@', r'\1', u'%s' % url)


def text_lines(report):
    """The report for the play's output: the count, then one line per site and integration that is not in line."""
    lines = [summary_line(report)]
    for row in report['sites']:
        if row['status'] == SITE_UNKNOWN and row['reason']:
            lines.append('%s: unknown: %s' % (row['site'], row['reason']))
            continue
        for cell in row['integrations']:
            if cell['state'] != IN_LINE:
                lines.append('%s: %s: %s%s' % (row['site'], cell['name'], cell_text(cell),
                                               (': %s' % cell['reason']) if cell['reason'] else ''))
    lines.extend('%s: %s: %s' % (row['site'], cell['name'], rotation_text(cell))
                 for row in report['sites'] for cell in row['integrations'] if cell.get('rotation'))
    return lines


# A report holds no secret, but it names the sites and their integrations: for its owner only.
REPORT_MODE = 0o600


def write_report(path, text):
    """Write ``text`` to ``path`` atomically (mode 0600); True when the file changed (its text or
    a wider mode it had)."""
    try:
        with open(path) as handle:
            if handle.read() == text and (os.stat(path).st_mode & 0o777) == REPORT_MODE:
                return False
    except (IOError, OSError):
        pass
    replace_file(path, text.encode('utf-8'), REPORT_MODE)
    return True


# Ansible reads a JSON variables file (-e @creatio-drift.json, include_vars) as trusted templates. A
# text of a site that could be one ({{ }}, {% %}, {# #}, a #jinja2: header) is written as Ansible's
# marker for data, {"__ansible_unsafe": text}; every other text stays a plain JSON string.
UNSAFE_KEY = '__ansible_unsafe'


def _data_only(value):
    if isinstance(value, dict):
        return dict((key, _data_only(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_data_only(item) for item in value]
    if isinstance(value, (str, type(u''))):
        return {UNSAFE_KEY: value} if '{' in value or '#' in value else value
    return value


def as_json(report):
    return json.dumps(_data_only(report), indent=2, sort_keys=True) + '\n'


def report_service(params, check_mode):
    """The service of creatio_drift_report: the report, its files (not in check mode), its result. A file that cannot
    be written raises (run_module reports it); a report that is not in line with fail_on_drift is a result that fails,
    with the report in it."""
    report = build_report(params['sites'])
    text = markdown(report)
    changed = False
    written = []
    outputs = [(key, params[key], content) for key, content in (('markdown_path', text), ('json_path', as_json(report)))
               if params.get(key)]
    for key, path, content in outputs:  # both folders checked before either file is written
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ConfigurationError('%s: the folder %s does not exist' % (key, folder), option=key,
                                     hint='make the folder first (the creatio.oauth.drift playbook makes creatio_drift_dir)')
    for key, path, content in outputs:
        if check_mode:
            changed = True
            continue
        try:
            changed = write_report(path, content) or changed
        except (IOError, OSError) as exc:
            raise LocalFileError('%s: cannot write %s (%s)' % (key, path, exc.strerror), path=path, files=written,
                                 hint='check that the folder is writable and has room')
        written.append(os.path.abspath(path))
    where = ['%s %s' % ('Would write' if check_mode else 'Report:', os.path.abspath(params[key]))
             for key in ('markdown_path', 'json_path') if params.get(key)]
    result = {'changed': changed, 'report': report, 'markdown': text, 'summary': text_lines(report) + where,
              'sites_in_line': report['summary']['sites_in_line'], 'files': written,
              'in_line': report['summary']['sites_in_line'] == report['summary']['sites']}
    if params.get('fail_on_drift') and not result['in_line']:
        result['failed'] = True
        result['msg'] = 'drift: %s' % summary_line(report)
    return result
