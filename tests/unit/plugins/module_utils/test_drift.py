# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report (_drift.py, issue 15 item 2): classification, the table, the files."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _drift as drift
from ansible_collections.creatio.oauth.plugins.module_utils import _report as report_mod
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError

NAMES = ['Power BI', 'Webhooks', 'Outlook']


def entry(name, action, fields=(), operations=(), error=None, not_compared=(), **more):
    result = {'name': name, 'preset': None, 'state': 'present', 'grant_type': 'client_credentials', 'client_id': None,
              'changed': action not in ('unchanged', 'failed'), 'action': action, 'operations': list(operations),
              'fields': list(fields), 'secret_file': None, 'verified': None}
    if error:
        result['error'] = error
    else:
        result['compared'] = [f for f in ('application_url', 'system_user_id') if f not in not_compared]
        result['not_compared'] = list(not_compared)
    result.update(more)
    return result


def site(name, results=None, error=None, declared=None):
    return {'site': name, 'url': 'https://%s.example' % name, 'declared': list(NAMES if declared is None else declared),
            'results': results, 'error': error}


def in_line(name):
    return site(name, [entry(n, 'unchanged') for n in NAMES])


def test_fields_of_the_calls():
    operations = [{'call': 'UpdateClient', 'request': {'clientId': 'X', 'applicationUrl': 'a', 'isActive': False}},
                  {'call': 'AddRedirectUrls', 'request': {'clientId': 'X', 'redirectUrls': ['u']}},
                  {'call': 'DeleteRedirectUrl', 'request': {'redirectUrlId': 'i'}},
                  {'call': 'UpdateClient', 'request': {'clientId': 'X', 'someNewMember': 1}}]
    assert drift.fields_of(operations) == ['active', 'application_url', 'redirect_urls', 'someNewMember']
    assert drift.fields_of([{'call': 'AddClient', 'request': {'name': 'X'}}]) == []
    assert drift.fields_of(None) == []


def test_the_role_publishes_the_fields_of_an_update():
    class Item(object):
        name, preset, secret_file = 'W', 'webhooks', None
        desired = Declaration(state='present', grant_type='client_credentials')
    result = {'changed': True, 'client': {'client_id': 'C'}, 'operations': [
        {'call': 'UpdateClient', 'summary': "update integration W: application_url 'a' -> 'b'",
         'request': {'clientId': 'C', 'applicationUrl': 'b'}}]}
    published = report_mod.entry_of(Item(), result, check_mode=True)
    assert published['action'] == 'updated' and published['fields'] == ['application_url']


def test_each_action_its_state_and_the_site_status():
    drifting = site('b', [entry('Power BI', 'unchanged'),
                          entry('Webhooks', 'updated', ['application_url'], ["update integration Webhooks: application_url 'a' -> 'b'"]),
                          entry('Outlook', 'created', operations=['create integration Outlook (authorization_code)'])])
    deleting = site('c', [entry('Power BI', 'removed', operations=['delete integration Power BI (client id X)'])],
                    declared=['Power BI'])
    offline = site('d', [entry(n, 'failed', error='not attempted: Login failed') for n in NAMES], error='3 not attempted')
    never_ran = site('e', None, error='vault password missing')
    report = drift.build_report([drifting, in_line('a'), deleting, offline, never_ran], generated_at='2026-01-01T00:00:00Z')
    rows = dict((row['site'], row) for row in report['sites'])
    assert [row['site'] for row in report['sites']] == ['a', 'b', 'c', 'd', 'e']
    assert [(r, rows[r]['status']) for r in 'abcde'] == [('a', 'in line'), ('b', 'drift'), ('c', 'drift'), ('d', 'unknown'),
                                                         ('e', 'unknown')]
    cells = dict((c['name'], c) for c in rows['b']['integrations'])
    assert [cells[n]['state'] for n in NAMES] == ['in line', 'would update', 'would create']
    assert cells['Webhooks']['fields'] == ['application_url'] and cells['Outlook']['fields'] == []
    assert rows['c']['integrations'][0]['state'] == 'would delete'
    assert all(c['state'] == 'unknown' and c['reason'] == 'not attempted: Login failed' for c in rows['d']['integrations'])
    assert [(c['name'], c['state'], c['reason']) for c in rows['e']['integrations']] == [
        (n, 'unknown', 'vault password missing') for n in NAMES]  # declared, never reached: still one cell each
    assert report['integrations'] == NAMES
    assert report['summary'] == {'sites': 5, 'sites_in_line': 1, 'sites_with_drift': 2, 'sites_unknown': 2,
                                 'cells': {'in line': 4, 'would create': 1, 'would update': 1, 'would delete': 1,
                                           'unknown': 6}}


def test_a_site_with_one_undecided_integration_and_no_drift_is_unknown_not_in_line():
    partial = site('p', [entry('Power BI', 'unchanged'), entry('Webhooks', 'failed', error='ambiguous name'),
                         entry('Outlook', 'unchanged')])
    row = drift.classify_site(partial)
    assert row['status'] == 'unknown' and row['reason'] == 'ambiguous name'


def test_in_line_only_with_evidence_for_every_declared_field():
    """Issue 21 items 7 and 8: redirect URIs the site does not list, a name Creatio holds twice, a
    result that does not say what was compared: never "in line"."""
    hidden = entry('Outlook', 'unchanged', not_compared=['redirect_urls'], compared=['application_url'])
    unconfirmed = entry('Portal', 'unchanged', compared=['application_url'], not_compared=['redirect_urls'],
                        unconfirmed_redirect_urls=['https://p.example/cb'])
    twice = entry('Webhooks', 'unchanged', same_name=['A' * 32, 'B' * 32])
    twice_update = entry('Hooks', 'updated', ['application_url'], same_name=['A' * 32, 'B' * 32])
    cache_only = entry('Power BI', 'unchanged', compared=[], not_compared=['application_url', 'system_user_id'])
    silent = dict(entry('Clio', 'unchanged'))
    del silent['compared'], silent['not_compared']
    update_unread_uris = entry('Teams', 'updated', ['application_url'], not_compared=['redirect_urls'])
    results = [hidden, unconfirmed, twice, twice_update, cache_only, silent, update_unread_uris, entry('Fine', 'unchanged')]
    row = drift.classify_site(site('s', results, declared=[e['name'] for e in results]))
    cells = dict((c['name'], c) for c in row['integrations'])
    assert dict((n, c['state']) for n, c in cells.items()) == {
        'Outlook': 'unknown', 'Portal': 'unknown', 'Webhooks': 'unknown', 'Hooks': 'unknown', 'Power BI': 'unknown',
        'Clio': 'unknown', 'Teams': 'would update', 'Fine': 'in line'}
    assert cells['Outlook']['reason'] == ('not compared with the site: redirect_urls (this site does not let the collection '
                                          'read which redirect URIs an integration has)')
    assert cells['Portal']['reason'].startswith('redirect URIs not confirmed: https://p.example/cb')
    assert cells['Webhooks']['reason'] == ("Creatio has 2 integrations named 'Webhooks' (client ids %s, %s): which one is "
                                           "declared cannot be told; delete the extra ones in Creatio" % ('A' * 32, 'B' * 32))
    assert cells['Power BI']['reason'].startswith('not compared with the site: application_url, system_user_id (Creatio was not read')
    assert cells['Clio']['reason'] == 'the result does not say which fields were compared with the site'
    assert row['status'] == 'drift'


def test_the_role_publishes_what_was_compared_and_a_second_integration_of_the_name():
    class Item(object):
        name, preset, secret_file = 'O', 'outlook_addin', None
        desired = Declaration(state='present', grant_type='authorization_code')
    result = {'changed': False, 'client': {'client_id': 'C'}, 'operations': [], 'compared': ['application_url'],
              'not_compared': ['redirect_urls'], 'same_name': ['C', 'D']}
    entries, lines = report_mod.build([Item()], [result], check_mode=True, secrets_dir=None)
    assert entries[0]['compared'] == ['application_url'] and entries[0]['not_compared'] == ['redirect_urls']
    assert entries[0]['same_name'] == ['C', 'D']
    assert any(line.strip().startswith('! not compared with the site: redirect_urls') for line in lines), lines
    assert any("Creatio has 2 integrations named 'O'" in line for line in lines), lines


def test_markdown_table_details_and_escaping():
    weird = site('x|y', [entry('A|B', 'updated', ['redirect_urls'], ['authorize https://e.example/cb|x for A|B'])], declared=['A|B'])
    report = drift.build_report([in_line('a'), weird], generated_at='2026-01-01T00:00:00Z')
    text = drift.markdown(report)
    assert '**1 of 2 site(s) in line, 1 with drift, 0 unknown.**' in text
    assert '| site | status | Power BI | Webhooks | Outlook | A\\|B |' in text
    assert '| a | in line | in line | in line | in line | - |' in text
    assert '| x\\|y | drift | - | - | - | would update (redirect_urls) |' in text
    details = '- x\\|y / A\\|B: would update (redirect_urls)\n  - authorize https://e.example/cb\\|x for A\\|B\n'
    assert text.split('## Details\n\n')[1] == details
    assert drift.text_lines(report) == ['1 of 2 site(s) in line, 1 with drift, 0 unknown', 'x|y: A|B: would update (redirect_urls)']


def test_report_service_writes_both_files_not_in_check_mode_and_gates(tmp_path):
    params = {'sites': [in_line('a'), site('b', [entry('Power BI', 'created')], declared=['Power BI'])],
              'markdown_path': str(tmp_path / 'drift.md'), 'json_path': str(tmp_path / 'drift.json'), 'fail_on_drift': False}
    checked = drift.report_service(params, check_mode=True)
    assert checked['changed'] is True and checked['files'] == [] and not os.listdir(str(tmp_path))
    result = drift.report_service(params, check_mode=False)
    assert result['changed'] is True and result['sites_in_line'] == 1 and result['in_line'] is False
    assert sorted(result['files']) == [str(tmp_path / 'drift.json'), str(tmp_path / 'drift.md')]
    written = json.loads((tmp_path / 'drift.json').read_text())
    assert written['summary']['sites_in_line'] == 1 and written == json.loads(json.dumps(result['report']))
    assert (tmp_path / 'drift.md').read_text() == result['markdown']
    assert oct(os.stat(str(tmp_path / 'drift.md')).st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(str(tmp_path / 'drift.json')).st_mode & 0o777) == oct(0o600)
    assert result['summary'][-2:] == ['Report: %s' % (tmp_path / 'drift.md'), 'Report: %s' % (tmp_path / 'drift.json')]
    gated = drift.report_service(dict(params, fail_on_drift=True), check_mode=False)
    assert gated['failed'] is True and gated['msg'] == 'drift: 1 of 2 site(s) in line, 1 with drift, 0 unknown'
    with pytest.raises(ConfigurationError) as missing:  # run_module reports it (test_one_exit.py)
        drift.report_service(dict(params, markdown_path=str(tmp_path / 'no' / 'drift.md')), check_mode=False)
    assert missing.value.option == 'markdown_path' and 'does not exist' in missing.value.message
    assert drift.report_service(dict(params, sites=[in_line('a')], fail_on_drift=True), check_mode=False)['in_line'] is True


def test_nothing_but_what_the_results_say_reaches_the_report():
    secretish = entry('Power BI', 'created')
    secretish['client_secret'] = 'THIS-MUST-NOT-SHOW'  # the role never publishes one; even if it did
    report = drift.build_report([site('a', [secretish], declared=['Power BI'])])
    assert 'THIS-MUST-NOT-SHOW' not in drift.as_json(report) + drift.markdown(report)


HOSTILE_NAME = '<img src=x onerror=alert(1)> [click](javascript:alert(1)) <javascript:alert(2)> `code` **b** ![i](http://e/x.png)'
HOSTILE_URL = 'javascript:alert(document.cookie)//<script>alert(3)</script>'


def test_markdown_shows_hostile_site_data_as_text_never_as_html_or_links():
    """Names, URLs and error texts from a site: no tag, no link, no image, no code span in the rendered report."""
    hostile = site('h', [entry(HOSTILE_NAME, 'updated', ['application_url'],
                               ["update integration %s: application_url '%s' -> 'https://ok.example'" % (HOSTILE_NAME, HOSTILE_URL)]),
                         dict(entry('B', 'failed'), error='Creatio said: <a href="javascript:alert(4)">retry</a>\n# heading')],
                   declared=[HOSTILE_NAME, 'B'])
    text = drift.markdown(drift.build_report([hostile], generated_at='2026-01-01T00:00:00Z'))
    # rendered as a permissive renderer would (raw HTML allowed, GitHub's tables)
    html = pytest.importorskip('markdown_it').MarkdownIt('commonmark', {'html': True}).enable('table').render(text)
    tags = sorted(set(re.findall(r'<([a-z0-9]+)', html)))
    assert tags == ['h1', 'h2', 'li', 'p', 'strong', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul'], html
    assert html.count('<strong>') == 1  # the count line, ours
    assert '&lt;img src=x onerror=alert(1)&gt; [click](javascript:alert(1)) &lt;javascript:alert(2)&gt; `code` **b**' in html
    assert 'Creatio said: &lt;a href=&quot;javascript:alert(4)&quot;&gt;retry&lt;/a&gt; # heading' in html
    assert html.count('<tr>') == 2  # a header and one site: no cell broke out of its row
    assert drift._md('application_url _x_ __y__') == 'application_url \\_x\\_ \\_\\_y\\_\\_'  # pylint: disable=protected-access


def test_a_url_with_userinfo_never_reaches_the_report():
    report = drift.build_report([dict(in_line('a'), url='https://admin:S3cret-pw@site.example:8443/0?x=1')])
    assert report['sites'][0]['url'] == 'https://site.example:8443/0?x=1'
    assert 'S3cret-pw' not in drift.as_json(report) + drift.markdown(report) + '\n'.join(drift.text_lines(report))
    assert drift.without_userinfo('https://site.example/a@b') == 'https://site.example/a@b'  # an @ in the path is no userinfo
    assert drift.without_userinfo('HTTPS://u@h') == 'HTTPS://h' and drift.without_userinfo('') is None


def test_the_json_report_reads_back_in_ansible_as_data_never_as_a_template(tmp_path):
    """-e @creatio-drift.json or include_vars: a site's text that is a template stays that text."""
    # Ansible's controller code: ansible-test units runs module_utils tests without it (make test's pytest runs them)
    DataLoader = pytest.importorskip('ansible.parsing.dataloader').DataLoader
    from ansible.template import Templar
    hostile = "{{ 'a template ' ~ 'ran' }}"  # rendered, it would read differently
    report = drift.build_report([site('a', [dict(entry('X', 'failed'), error=hostile)], declared=['X'])])
    path = tmp_path / 'creatio-drift.json'
    path.write_text(drift.as_json(report))
    loaded = DataLoader().load_from_file(str(path), trusted_as_template=True)  # as -e @file and include_vars load it
    cell = loaded['sites'][0]['integrations'][0]
    assert Templar(loader=DataLoader(), variables=loaded).template(cell)['reason'] == hostile
    assert json.loads(path.read_text())['sites'][0]['integrations'][0]['name'] == 'X'  # plain texts stay plain JSON strings
