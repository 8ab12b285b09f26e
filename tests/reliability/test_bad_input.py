# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input: a corpus of bad inputs across the three modules and the integrations role. Each must
fail with a message that names the option, and send nothing to Creatio.

All cases run in one playbook (one ansible-playbook start). Every case is preceded by a marker task
whose url lookup leaves ``GET /_mark/NN`` in the simulator log, so that each request in the log is
attributed to the case it belongs to: a case that sent anything is named, not hidden by the others.
The recorded task results are split the same way, to read each case's own failure message.

Plus a name with a single quote that must work (OData filter quoting): created, then unchanged.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import reliability_lib as lib  # pylint: disable=import-error

CLIENT = 'creatio.oauth.creatio_oauth_client'
URL = 'creatio.oauth.creatio_redirect_url'
INFO = 'creatio.oauth.creatio_oauth_client_info'
ROLE = 'role'
CC = {'grant_type': 'client_credentials', 'application_url': 'https://app.example.com', 'system_user_id': lib.POWERBI_USER_ID}
AC = {'grant_type': 'authorization_code', 'application_url': 'https://app.example.com'}
URL_PASSWORD = 'Rel-url-embedded-pw'


def _client(name='Bad input', **kwargs):
    args = {'name': name}
    args.update(kwargs)
    return args


def _cc(**overrides):
    """A valid client credentials declaration with ``overrides``."""
    args = _client(**CC)
    args.update(overrides)
    return args


def _ac(urls, **overrides):
    """A valid authorization code declaration with ``urls`` and ``overrides``."""
    args = _client(redirect_urls=urls, **AC)
    args.update(overrides)
    return args


def corpus(paths):
    """(id, module or ROLE, arguments, words the message must contain). ``paths``: prepared files."""
    return [
        # --- creatio_oauth_client: types, keys, options
        ('missing name', CLIENT, dict(CC), ['name']),
        ('empty name', CLIENT, _client('', **CC), ['name must be a non-empty string']),
        ('name with outer spaces', CLIENT, _client(' Bad ', **CC), ['name must not start or end with white space']),
        ('name of 251 characters', CLIENT, _client('n' * 251, **CC), ['name is 251 characters long']),
        ('name with a control character', CLIENT, _client('bad\tname', **CC), ['name must not contain control or invisible characters']),
        ('name with NEL (U+0085)', CLIENT, _client(u'bad\u0085name', **CC), ['name must not contain control or invisible', 'U+0085']),
        ('name with a line separator (U+2028)', CLIENT, _client(u'bad\u2028name', **CC), ['name', 'U+2028']),
        ('name with a paragraph separator (U+2029)', CLIENT, _client(u'bad\u2029name', **CC), ['name', 'U+2029']),
        ('name with a zero-width space', CLIENT, _client(u'bad\u200bname', **CC), ['name', 'U+200B']),
        ('name with a bidi override', CLIENT, _client(u'bad\u202ename', **CC), ['name', 'U+202E']),
        ('system_user with NEL', CLIENT, _client(grant_type='client_credentials', application_url='https://a.example.com',
                                                 system_user=u'tech\u0085user'), ['system_user', 'U+0085']),
        ('unknown option', CLIENT, _client(colour='red', **CC), ['Unsupported parameters', 'colour']),
        ('state not a choice', CLIENT, _client(state='gone', **CC), ['state', 'present, absent']),
        ('grant_type not a choice', CLIENT, _cc(grant_type='implicit'), ['grant_type', 'client_credentials']),
        ('bad GUID', CLIENT, _cc(system_user_id='not-a-guid'), ['system_user_id must be a GUID']),
        ('GUID with a trailing junk', CLIENT, _cc(system_user_id=lib.POWERBI_USER_ID + 'x'),
         ['system_user_id must be a GUID']),
        # (a system user on authorization_code is not bad input by itself: Creatio 8.3 refuses it and older
        # sites need it; tests/functional/test_platforms.py proves the refusal comes before any write)
        ('client_credentials without system user', CLIENT, _client(grant_type='client_credentials', application_url='https://a.example.com'),
         ['system_user_id (or system_user) is required']),
        ('redirect URIs on client_credentials', CLIENT, _client(redirect_urls=['https://a.example.com/cb'], **CC),
         ['redirect_urls only apply']),
        ('empty redirect URI list', CLIENT, _ac([]), ['redirect_urls is an empty list']),
        ('relative redirect URI', CLIENT, _ac(['/callback']), ['redirect_urls', 'not an absolute URL']),
        ('redirect URI with a fragment', CLIENT, _ac(['https://a.example.com/cb#frag']), ['redirect_urls', 'fragment']),
        ('huge redirect URI', CLIENT, _ac(['https://a.example.com/' + 'x' * 3000]), ['redirect_urls', 'limit is 2048']),
        ('unicode redirect URI', CLIENT, _ac([u'https://ex\u00e4mple.com/cb']), ['redirect_urls', 'non-ASCII']),
        ('redirect URI with a double quote', CLIENT, _ac(['https://a.example.com/cb?x="y"']),
         ['redirect_urls', 'not allowed in a URI']),
        ('redirect URI with a space', CLIENT, _ac(['https://a.example.com/c b']), ['redirect_urls', 'not allowed in a URI']),
        ('javascript: redirect URI', CLIENT, _ac(['javascript:alert(1)']), ['redirect_urls', 'scheme']),
        ('plain http redirect URI, not loopback', CLIENT, _ac(['http://app.example.com/cb']),
         ['redirect_urls', 'plain http to a host that is not loopback', 'use https']),
        ('redirect URIs as a mapping', CLIENT, _client(redirect_urls={'a': 1}, **AC), ['redirect_urls']),
        ('relative application URL', CLIENT, _cc(application_url='app.example.com'),
         ['application_url', 'not an absolute URL']),
        ('application URL with a password', CLIENT, _cc(application_url='https://u:%s@app.example.com' % URL_PASSWORD),
         ['application_url', 'user name or password']),
        ('application URL not http', CLIENT, _cc(application_url='ftp://app.example.com'),
         ['application_url', 'http or https']),
        ('active not a boolean', CLIENT, _client(active='sometimes', **CC), ['active']),
        ('purge_redirect_urls not a boolean', CLIENT, _ac(['https://a.example.com/cb'], purge_redirect_urls='maybe'),
         ['purge_redirect_urls']),
        ('client_id with spaces', CLIENT, _client(client_id='abc def', **CC), ['client_id must be the client id']),
        # --- connection options
        ('request_timeout 0', CLIENT, _client(request_timeout=0, **CC), ['request_timeout must be more than 0 and at most 3600']),
        ('request_timeout not a number', CLIENT, _client(request_timeout='soon', **CC), ['request_timeout']),
        ('validate_certs not a boolean', CLIENT, _client(validate_certs='perhaps', **CC), ['validate_certs']),
        ('creatio_url under /0/', CLIENT, _client(creatio_url='{sim}/0/rest', **CC), ['creatio_url must be the site root']),
        ('creatio_url relative', CLIENT, _client(creatio_url='creatio.example.com', **CC), ['creatio_url must be an absolute']),
        ('creatio_url with a fragment', CLIENT, _client(creatio_url='{sim}/#/x', **CC), ['creatio_url must not carry']),
        ('creatio_url with a password', CLIENT, _client(creatio_url='http://u:%s@127.0.0.1:1' % URL_PASSWORD, **CC),
         ['creatio_url must not contain a user name or password']),
        ('two login methods', CLIENT, _client(creatio_client_id=lib.AUTOMATION_CLIENT_ID,
                                              creatio_client_secret=lib.AUTOMATION_CLIENT_SECRET, **CC),
         ['give exactly one login method']),
        ('user without password', CLIENT, _client(creatio_password='', **CC), ['creatio_password is missing']),
        ('ca_path that does not exist', CLIENT, _client(ca_path='/nonexistent/ca.pem', **CC), ['ca_path', 'does not exist']),
        ('bad identity URL', CLIENT, _client(creatio_username='', creatio_password='', creatio_client_id=lib.AUTOMATION_CLIENT_ID,
                                             creatio_client_secret=lib.AUTOMATION_CLIENT_SECRET,
                                             creatio_identity_url='identity.example.com', **CC),
         ['creatio_identity_url must be an absolute']),
        # --- the facts cache
        ('corrupt cache file', CLIENT, _client(cache_path=paths['corrupt'], **CC), ['cache_path', 'is not valid JSON']),
        ('cache of an unknown schema', CLIENT, _client(cache_path=paths['schema'], **CC), ['cache_path', 'schema version']),
        ('cache path is a folder', CLIENT, _client(cache_path=paths['folder'], **CC), ['cache_path', 'is a directory']),
        ('cache in a missing folder', CLIENT, _client(cache_path=paths['missing'], **CC), ['cache_path', 'does not exist']),
        ('cache in a read-only folder', CLIENT, _client(cache_path=paths['readonly'], **CC), ['cache_path', 'cannot write']),
        ('cache folder is a file', CLIENT, _client(cache_path=paths['under_file'], **CC), ['cache_path']),
        # --- creatio_redirect_url
        ('redirect module without a client', URL, {'redirect_urls': ['https://a.example.com/cb']}, ['client_name', 'client_id']),
        ('redirect module with both keys', URL, {'client_name': 'x', 'client_id': 'abc', 'redirect_urls': ['https://a.example.com/cb']},
         ['mutually exclusive', 'client_name']),
        ('redirect_url_id not a GUID', URL, {'client_name': 'x', 'redirect_url_id': '42', 'redirect_url': 'https://a.example.com/cb'},
         ['redirect_url_id must be a GUID']),
        ('redirect_url without an id', URL, {'client_name': 'x', 'redirect_url': 'https://a.example.com/cb'},
         ['redirect_url needs redirect_url_id']),
        ('redirect_urls and an id', URL, {'client_name': 'x', 'redirect_url_id': lib.POWERBI_USER_ID,
                                          'redirect_urls': ['https://a.example.com/cb']}, ['cannot be combined']),
        ('redirect module empty list', URL, {'client_name': 'x', 'redirect_urls': []}, ['redirect_urls']),
        ('purge with state absent', URL, {'client_name': 'x', 'redirect_urls': ['https://a.example.com/cb'], 'state': 'absent',
                                          'purge': True}, ['purge only applies']),
        ('redirect module fragment', URL, {'client_name': 'x', 'redirect_urls': ['com.example.app:/cb#x']}, ['redirect_urls', 'fragment']),
        ('redirect module plain http', URL, {'client_name': 'x', 'redirect_urls': ['http://a.example.com/cb']},
         ['redirect_urls', 'not loopback']),
        ('redirect module plain http by id', URL, {'client_name': 'x', 'redirect_url_id': lib.POWERBI_USER_ID,
                                                   'redirect_url': 'http://a.example.com/cb'}, ['redirect_url', 'not loopback']),
        ('redirect module client_name with U+2028', URL, {'client_name': u'x\u2028y', 'redirect_urls': ['https://a.example.com/cb']},
         ['client_name', 'U+2028']),
        # --- creatio_oauth_client_info
        ('info with an empty name', INFO, {'name': ''}, ['name must be a non-empty string']),
        ('info with an unknown option', INFO, {'names': ['a']}, ['Unsupported parameters', 'names']),
        # --- the integrations role
        ('role without creatio_integrations', ROLE, {}, ['creatio_integrations']),
        ('role item without a name', ROLE, {'creatio_integrations': [{'preset': 'powerbi', 'system_user_id': lib.POWERBI_USER_ID}]},
         ['name']),
        ('role item unknown preset', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'sharepoint'}]}, ['preset', 'powerbi']),
        ('role item unknown key', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'powerbi', 'colour': 'red',
                                                                   'system_user_id': lib.POWERBI_USER_ID}]}, ['colour']),
        ('role items not mappings', ROLE, {'creatio_integrations': ['just a name']}, ['creatio_integrations']),
        ('role powerbi without system user', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'powerbi'}]},
         ['system_user_id is required']),
        ('role duplicate names', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'powerbi', 'system_user_id': lib.POWERBI_USER_ID},
                                                                 {'name': 'R', 'preset': 'powerbi', 'system_user_id': lib.POWERBI_USER_ID}]},
         ['declared more than once']),
        ('role custom without grant', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'custom',
                                                                       'application_url': 'https://a.example.com'}]},
         ['grant_type is required']),
        ('role preset grant overridden', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'powerbi', 'grant_type': 'authorization_code',
                                                                          'system_user_id': lib.POWERBI_USER_ID}]},
         ['grant_type is fixed']),
        ('role bad GUID', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'powerbi', 'system_user_id': '1234'}]},
         ['system_user_id must be a GUID']),
        ('role redirect URI with a fragment', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'outlook_addin',
                                                                              'redirect_urls': ['https://a.example.com/cb#x']}]},
         ['redirect_urls', 'fragment']),
        ('role plain http redirect URI', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'outlook_addin',
                                                                          'redirect_urls': ['http://a.example.com/cb']}]},
         ['redirect_urls', 'not loopback']),
        ('role name with NEL', ROLE, {'creatio_integrations': [{'name': u'R\u0085S', 'preset': 'powerbi',
                                                                'system_user_id': lib.POWERBI_USER_ID}]}, ['name', 'U+0085']),
        # --- a control that is valid and reads: proves that requests are attributed to their case
        ('control: a valid read', INFO, {'name': 'Nothing by that name'}, None),
        ('role cache in a missing folder', ROLE, {'creatio_integrations': [{'name': 'R', 'preset': 'powerbi',
                                                                           'system_user_id': lib.POWERBI_USER_ID}],
                                                  'cache_path': paths['missing']}, ['cache_path', 'does not exist']),
    ]


MARK = """
    - name: mark {n:02d}
      ansible.builtin.debug:
        msg: "{{{{ lookup('ansible.builtin.url', mark_url ~ '{n:02d}', errors='ignore') }}}}"
"""
MODULE_CASE = """
    - name: case {n:02d} {id}
      {module}: {args}
      ignore_errors: true
"""
ROLE_CASE = """
    - name: case {n:02d} {id}
      block:
        - name: case {n:02d} role
          ansible.builtin.include_role:
            name: creatio.oauth.integrations
          vars: {args}
      rescue:
        - name: case {n:02d} rescued
          ansible.builtin.debug:
            msg: rescued
"""


def _prepare(tmp_path):
    base = tmp_path / 'bad-cache'
    base.mkdir()
    (base / 'corrupt.json').write_text(u'{"schema_version": 1, "sites": {')
    (base / 'schema.json').write_text(u'{"schema_version": 99}')
    (base / 'folder.json').mkdir()
    (base / 'a-file').write_text(u'not a folder')
    if os.geteuid() == 0:
        # root writes anywhere a mode allows nothing; sysfs refuses new files even to root
        readonly = '/sys/kernel/creatio-facts.json'
    else:
        (base / 'readonly').mkdir()
        os.chmod(str(base / 'readonly'), 0o500)
        readonly = str(base / 'readonly' / 'facts.json')
    return {'corrupt': str(base / 'corrupt.json'), 'schema': str(base / 'schema.json'),
            'folder': str(base / 'folder.json'), 'missing': str(base / 'no' / 'such' / 'facts.json'),
            'readonly': readonly, 'under_file': str(base / 'a-file' / 'facts.json')}


def _playbook(cases, sim):
    parts = ['- name: Bad input corpus\n  hosts: localhost\n  gather_facts: false\n  tasks:\n']
    for number, (case_id, module, args, _words) in enumerate(cases):
        args = json.loads(json.dumps(args).replace('{sim}', sim.url))
        parts.append(MARK.format(n=number))
        template = ROLE_CASE if module == ROLE else MODULE_CASE
        parts.append(template.format(n=number, id=case_id.replace(':', ''), module=module, args=json.dumps(args)))
    parts.append(MARK.format(n=len(cases)))
    return ''.join(parts)


def _split(items, is_marker):
    """{case number: [items after marker n, before marker n+1]}."""
    groups = {}
    current = None
    for item in items:
        number = is_marker(item)
        if number is not None:
            current = number
            groups.setdefault(current, [])
        elif current is not None:
            groups[current].append(item)
    return groups


def _marker_of_log(entry):
    if entry['path'].startswith('/_mark/'):
        return int(entry['path'].rsplit('/', 1)[1])
    return None


def _marker_of_result(entry):
    if entry['task'] and entry['task'].startswith('mark '):
        return int(entry['task'].split()[1])
    return None


def test_bad_input_corpus_fails_clearly_before_any_request(rel, tmp_path):
    cases = corpus(_prepare(tmp_path))
    assert len([c for c in cases if c[3] is not None]) >= 40
    assert len(set(c[0] for c in cases)) == len(cases)
    result = rel.run(_playbook(cases, rel.sim), extra_vars={'mark_url': rel.sim.url + '/_mark/'}, verbosity=3,
                     scan=False)
    rel.scan(result)
    # A password pasted into a URL option is never repeated by the collection's messages (Ansible
    # itself echoes the arguments of an option that is not no_log under "invocation": the user's own
    # input, left out here).
    stripped = [dict(r['result'], invocation=None) for r in result.results]
    secrets = lib.scan_for_secrets({'results without invocation': json.dumps(stripped)}, {'password in a URL': URL_PASSWORD})
    assert not secrets, secrets
    requests = _split(rel.sim.log(), _marker_of_log)
    outputs = _split(result.results, _marker_of_result)
    assert sorted(requests) == list(range(len(cases) + 1)), 'a marker is missing: %s' % sorted(requests)
    problems = []
    for number, (case_id, module, _args, words) in enumerate(cases):
        sent = requests.get(number, [])
        failed = [r for r in outputs.get(number, []) if r['status'] == 'failed']
        messages = ' | '.join(str(r['result'].get('msg')) for r in failed if r['result'].get('msg'))
        where = 'role' if module == ROLE else module.rsplit('.', 1)[1]
        if words is None:  # the control case
            assert not failed and [e['endpoint'] for e in sent] == ['Login', 'OData'], (failed, sent)
            continue
        with rel.row('bad input', case_id, where, injected=0, order=number) as row:
            row['outcome'] = 'failed: %s' % lib.short(messages, 120) if failed else 'DID NOT FAIL'
            missing = [w for w in words if w not in messages]
            if not failed:
                problems.append('%s: did not fail' % case_id)
            elif missing:
                problems.append('%s: message lacks %s: %s' % (case_id, missing, messages))
            if sent:
                problems.append('%s: sent %s' % (case_id, [e['endpoint'] for e in sent]))
            row['check'] = 'ok: names %s; 0 requests' % ', '.join(repr(w) for w in words) if failed and not missing and not sent \
                else 'FAILED: %s' % ('%d requests' % len(sent) if sent else 'message')
    assert not problems, '\n'.join(problems)
    assert not os.path.exists(os.path.join(str(tmp_path), 'bad-cache', 'no')), 'a missing cache folder was created'


QUOTED = "O'Brien's app"


def test_a_name_with_quotes_survives_odata_quoting(rel):
    playbook = """
- name: Quoted name
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create it
      creatio.oauth.creatio_oauth_client:
        name: "O'Brien's app"
        grant_type: authorization_code
        application_url: https://obrien.example.com
        redirect_urls:
          - https://obrien.example.com/cb?who='me'
      no_log: true

    - name: Read it back
      creatio.oauth.creatio_oauth_client_info:
        name: "O'Brien's app"
      register: info
"""
    declared = {QUOTED: {'grant_type': 'authorization_code', 'application_url': 'https://obrien.example.com',
                         'redirect_urls': ["https://obrien.example.com/cb?who='me'"]}}
    with rel.row('bad input', 'name with single quotes (must work)', 'creatio_oauth_client + _info', injected=0, order=999) as row:
        first = rel.run(playbook)
        assert first.rc == 0, first
        info = first.task_result('Read it back')
        assert [c['name'] for c in info['clients']] == [QUOTED] and info['odata_readable'], info
        rel.sim.clear_log()
        lib._HELPERS.remove_cache(rel.cache_path)  # the re-run must find it through the OData filter, not the cache
        second = rel.run(playbook)
        assert second.rc == 0 and not second.changed_tasks(), second
        odata = [e for e in rel.sim.log() if e['endpoint'] == 'OData']
        assert odata and all(e['status'] == 200 for e in odata), odata
        assert not [e for e in rel.sim.log() if e['kind'] == 'write'], rel.sim.log()
        rel.converged(declared)
        row['outcome'] = 'created, then found again through the OData filter with the cache removed: unchanged'
        row['check'] = 'ok: 1 integration, once; cache == simulator == declared'
