# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domain rules, once: grant rules, presets, secret file names (_rules.py), the role's report
(_report.py), and the redirect-URI entity found in an OData description (_site.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _report as report
from ansible_collections.creatio.oauth.plugins.module_utils import _rules as rules
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._site import redirect_entity_of

# The simulator's seeded administrator (conftest.py put tests/simulator on sys.path).
from creatio_simulator import SUPERVISOR_ID as USER  # pylint: disable=import-error


def item(**kw):
    base = dict((k, None) for k in ('name', 'preset', 'state', 'grant_type', 'application_url', 'system_user_id',
                                    'system_user', 'create_system_user', 'redirect_urls', 'active'))
    base.update(state='present')
    base.update(kw)
    return base


@pytest.mark.parametrize('preset, grant, url', [
    ('powerbi', 'client_credentials', 'https://app.powerbi.com'),
    ('clio', 'client_credentials', 'https://app.clio.com'),
    ('outlook_addin', 'authorization_code', 'https://outlook.office.com'),
])
def test_a_preset_fixes_the_grant_and_fills_its_defaults(preset, grant, url):
    given = item(name='X', preset=preset, system_user='Bot', redirect_urls=['https://a.example/cb'])
    if grant == 'client_credentials':
        given['redirect_urls'] = None
    expanded, problems = rules.expand_preset(given, 'here')
    assert problems == [] and expanded['grant_type'] == grant and expanded['application_url'] == url
    expanded, problems = rules.expand_preset(dict(given, application_url='https://own.example'), 'here')
    assert expanded['application_url'] == 'https://own.example'  # the item wins over the default


def test_every_problem_of_an_item_is_reported():
    _expanded, problems = rules.expand_preset(item(name='X', preset='webhooks', grant_type='authorization_code',
                                                   redirect_urls=['https://a.example/cb']), 'clients[0]')
    assert problems == [
        'clients[0]: grant_type is fixed to client_credentials by the preset (use preset custom for another grant)',
        'clients[0]: application_url is required (the URL of the application that uses the integration); the preset has '
        'no default for it',
        'clients[0]: system_user_id is required (the Id of the (technical) user the integration acts as); the preset has '
        'no default for it',
        'clients[0]: redirect_urls does not apply to the client_credentials grant']
    _expanded, problems = rules.expand_preset(item(name='X', preset='zapier'), 'w')
    assert problems == ["w: preset must be one of powerbi, webhooks, clio, outlook_addin, custom, got 'zapier'"]
    _expanded, problems = rules.expand_preset(item(name='X', preset='custom'), 'w')
    assert problems == ['w: grant_type is required (client_credentials or authorization_code); the preset has no default for it']


def test_a_system_user_by_name_satisfies_the_preset_and_absent_items_need_nothing():
    assert rules.expand_preset(item(name='X', preset='powerbi', system_user='Bot'), 'w')[1] == []
    expanded, problems = rules.expand_preset(item(name='X', preset='webhooks', state='absent', application_url='x'), 'w')
    assert problems == [] and expanded['application_url'] is None and expanded['grant_type'] == 'client_credentials'


def test_declared_grant_rules():
    rules.check_declared_grant(Declaration(grant_type='client_credentials', system_user='Bot'))
    rules.check_declared_grant(Declaration(grant_type='authorization_code', system_user_id=USER))  # needed before 8.3
    with pytest.raises(ConfigurationError) as info:
        rules.check_declared_grant(Declaration(grant_type='client_credentials', system_user_id=USER, redirect_urls=['u']))
    assert info.value.option == 'redirect_urls' and 'authorization_code' in info.value.message
    with pytest.raises(ConfigurationError) as info:
        rules.check_declared_grant(Declaration(grant_type='client_credentials'))
    assert info.value.option == 'system_user_id' and 'system_user' in info.value.hint


def test_create_rules_depend_on_the_site():
    code = Declaration(name='X', grant_type='authorization_code', application_url='https://a.example',
                       redirect_urls=['https://a.example/cb'], system_user_id=None)
    rules.check_create(code)
    with pytest.raises(ConfigurationError) as info:
        rules.check_create(code, grant_types=False)  # before 8.3 every integration needs a system user
    assert info.value.option == 'system_user_id' and '8.3' in info.value.message
    rules.check_create(code.replace(system_user_id=USER), grant_types=False)
    with pytest.raises(ConfigurationError) as info:
        rules.check_create(code.replace(system_user_id=USER))  # 8.3 refuses it with authorization_code
    assert info.value.option == 'system_user_id'
    with pytest.raises(ConfigurationError) as info:
        rules.check_create(code.replace(system_user_id=USER, redirect_urls=['https://a/1', 'https://a/2']), grant_types=False)
    assert 'Creatio 8.3 or later' in info.value.message and info.value.option == 'redirect_urls'


@pytest.mark.parametrize('name, expected', [('Clio', 'Clio.json'), ('Power_BI-2.0', 'Power_BI-2.0.json'),
                                            ('Power BI', 'Power_BI+%s.json'), ('.hidden', 'hidden+%s.json'),
                                            ('a/b\\c', 'a_b_c+%s.json'), (u'Интеграция 1', u'Интеграция_1+%s.json')])
def test_secret_file_names(name, expected):
    """Plain names keep the file of earlier versions; any other gets its letters (any script) and a hash."""
    digest = hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]
    assert rules.secret_file_name(name) == (expected % digest if '%s' in expected else expected)


def test_secret_file_names_never_collide_and_stay_short():
    """Cyrillic names all mapped to ``_.json`` (the role refused them as a clash); names of 233-250
    characters made a partial file name longer than 255 bytes (the secret lost after AddClient)."""
    names = [u'Интеграция', u'Отчёты', u'报表', 'Power BI', 'Power_BI', 'Power/BI', 'x' * 250, 'x' * 249, u'я' * 250,
             u'\U0001F600' * 250]
    files = [rules.secret_file_name(n) for n in names]
    assert len(set(files)) == len(names)
    for file_name in files:
        assert len(file_name.encode('utf-8')) + len('..12345678.partial') <= 160
        assert '/' not in file_name and not file_name.startswith('.')
    assert rules.secret_file_name('Power_BI') == rules.legacy_secret_file_name('Power_BI') == 'Power_BI.json'
    assert rules.legacy_secret_file_name('Power BI') == 'Power_BI.json' == rules.legacy_secret_file_name('Power/BI')


class Item(object):
    def __init__(self, name, preset, grant, secret_file=None, state='present'):
        self.name, self.preset, self.secret_file = name, preset, secret_file
        self.desired = Declaration(state=state, grant_type=grant)


def test_the_report_is_the_roles_summary():
    declared = [Item('Power BI', 'powerbi', 'client_credentials', '/s/Power_BI.json'), Item('Old', None, None, state='absent'),
                Item('Broken', 'custom', 'authorization_code')]
    results = [
        {'changed': True, 'client': {'client_id': 'ABC'}, 'verified': True,
         'operations': [{'call': 'AddClient', 'summary': 'create integration Power BI (client_credentials)'}]},
        {'changed': True, 'client': {}, 'operations': [{'call': 'DeleteClient', 'summary': 'delete integration Old'}]},
        {'changed': False, 'failed': True, 'msg': 'refused', 'operations': []},
    ]
    entries, lines = report.build(declared, results, False, '/s')
    assert [(e['action'], e['secret_file'], e['verified']) for e in entries] == [
        ('created', '/s/Power_BI.json', True), ('removed', None, None), ('failed', None, None)]
    assert entries[2]['error'] == 'refused'
    assert lines[0] == 'Creatio OAuth integrations: 1 created, 0 updated, 0 unchanged, 1 removed, 1 failed'
    assert lines[1] == '%-9s %-30s %-14s %-19s %s%s' % ('created', 'Power BI', 'powerbi', 'client_credentials', 'ABC',
                                                        '  (token verified)')
    assert lines[2] == '          - create integration Power BI (client_credentials)'
    assert lines[3].startswith('removed   Old                            -              -                   -')
    assert lines[-1].startswith('Client secrets of the new integrations written to /s')
    entries, lines = report.build(declared[:1], results[:1], True, None)
    assert entries[0]['client_id'] is None and 'CHECK MODE' in lines[0] and '(new)' in lines[1]


CSDL = '''<?xml version="1.0"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="Terrasoft" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityType Name="OAuthClientApp"><Property Name="Id"/><Property Name="RedirectUrl"/></EntityType>
<EntityType Name="Hooks"><Property Name="Id"/><Property Name="HookUrl"/></EntityType>
<EntityType Name="UrisOfClients"><Property Name="Id"/><Property Name="AppRef"/><Property Name="CallbackUrl"/>
  <NavigationProperty Name="App" Type="Terrasoft.OAuthClientApp"><ReferentialConstraint Property="AppRef" ReferencedProperty="Id"/>
  </NavigationProperty></EntityType>
<EntityContainer Name="Default"><EntitySet Name="OAuthClientApp" EntityType="Terrasoft.OAuthClientApp"/>
<EntitySet Name="Hooks" EntityType="Terrasoft.Hooks"/><EntitySet Name="ClientUris" EntityType="Terrasoft.UrisOfClients"/>
</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>'''


def test_the_redirect_uri_entity_is_found_by_its_shape_not_its_name():
    entity = redirect_entity_of(CSDL)
    assert (entity.name, entity.lookup, entity.url_column) == ('ClientUris', 'AppRef', 'CallbackUrl')
    without = CSDL.replace('<EntitySet Name="ClientUris" EntityType="Terrasoft.UrisOfClients"/>', '')
    assert redirect_entity_of(without) is None  # a URL column alone (Hooks) is not it
    assert redirect_entity_of('not xml <') is None
