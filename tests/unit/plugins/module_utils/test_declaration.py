# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declaration of a task (_declaration.py): made once by declare(), validated once (bad input names
its option before any request), immutable, and trusted afterwards: a redirect URI goes through the
validator once, where it enters, never again in the plan, the result or the diff."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
from ansible_collections.creatio.oauth.plugins.module_utils import _integrations as integration
from ansible_collections.creatio.oauth.plugins.module_utils import _normalize as normalize
from ansible_collections.creatio.oauth.plugins.module_utils import _redirect_urls as redirect_urls
from ansible_collections.creatio.oauth.plugins.module_utils._declaration import Declaration, Options, RedirectRequest
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item

# conftest.py put tests/simulator on sys.path: the seeded values come from the simulator's data module.
from creatio_simulator import POWERBI_USER_ID  # pylint: disable=import-error


def params(name='App', **kw):
    given = dict((key, value.get('default')) for key, value in integration.client_argspec().items())
    given.update(name=name, grant_type='client_credentials', application_url='https://app.example.com',
                 system_user_id=POWERBI_USER_ID)
    given.update(kw)
    return given


CODE = dict(grant_type='authorization_code', system_user_id=None, application_url='HTTPS://Outlook.Example.com',
            redirect_urls=['HTTPS://Outlook.Example.com/cb', 'https://outlook.example.com/cb', 'com.example.app:/cb'])


def test_declare_makes_one_typed_value_normalised_once():
    declared = integration.declare(params('Outlook', **CODE))
    assert isinstance(declared, Declaration)
    assert declared.application_url == 'https://outlook.example.com'
    assert declared.redirect_urls == ['https://outlook.example.com/cb', 'com.example.app:/cb']  # duplicates dropped
    assert declared.present and not declared.absent and declared.keep_stale_secret_file is False


def test_a_declaration_is_immutable_and_a_variant_is_a_new_value():
    declared = integration.declare(params())
    with pytest.raises(AttributeError):
        declared.name = 'Other'
    variant = declared.replace(client_secret_file='/s/App.json', keep_stale_secret_file=True)
    assert (variant.client_secret_file, variant.keep_stale_secret_file) == ('/s/App.json', True)
    assert (declared.client_secret_file, declared.keep_stale_secret_file) == (None, False)
    assert variant.replace(client_secret_file=None, keep_stale_secret_file=False) == declared
    with pytest.raises(TypeError):
        Declaration(name='App', colour='blue')


@pytest.mark.parametrize('bad, option', [
    (dict(name=' App'), 'name'),
    (dict(application_url='ftp://app.example.com'), 'application_url'),
    (dict(system_user_id='not-a-guid'), 'system_user_id'),
    (dict(system_user='Bot'), 'system_user'),  # and system_user_id: one of them
    (dict(system_user_id=None, create_system_user=True), 'create_system_user'),
    (dict(grant_type='authorization_code', system_user_id=None, redirect_urls=['http://app.example.com/cb']), 'redirect_urls'),
    (dict(redirect_urls=['https://app.example.com/cb']), 'redirect_urls'),  # client_credentials has none
    (dict(system_user_id=None), 'system_user_id'),
    (dict(client_id='not a client id'), 'client_id'),
    (dict(rotate_after_days=-1), 'rotate_after_days'),
    (dict(rotation_grace_hours=-2), 'rotation_grace_hours'),
])
def test_bad_input_names_its_option_before_any_request(sim, tmp_path, bad, option):
    run = make_run(sim, tmp_path, **params(**bad))
    sim.clear_log()
    with pytest.raises(ConfigurationError) as caught:
        integration.apply_one(run)
    assert caught.value.option == option, caught.value.message
    assert sim.log() == [] and run._client is None


def test_the_tasks_grace_stands_in_for_an_item_that_gives_none():
    assert integration.declare(params(rotation_grace_hours=None), rotation_grace_hours=24).rotation_grace_hours == 24
    assert integration.declare(params(rotation_grace_hours=3), rotation_grace_hours=24).rotation_grace_hours == 3
    items = [webhook_item('A'), webhook_item('B', rotation_grace_hours=0)]
    declared = batch.declare_all(items, None, rotation_grace_hours=12)
    assert [i.desired.rotation_grace_hours for i in declared] == [12, 0]


def test_secrets_dir_makes_a_variant_of_the_declaration(tmp_path):
    (item,) = batch.declare_all([webhook_item('Hooks')], str(tmp_path))
    assert item.desired.client_secret_file == str(tmp_path / 'Hooks.json') and item.desired.keep_stale_secret_file is True
    assert item.secret_file_from_dir and item.secret_file == item.desired.client_secret_file


def test_the_tasks_verify_is_an_option_of_the_task_not_of_the_declaration(sim, tmp_path):
    declared = integration.declare(params('Trusted'))
    integration.apply(make_run(sim, tmp_path), declared, options=Options(verify=True))
    sim.clear_log()
    result = integration.apply(make_run(sim, tmp_path, verify=False), declared, options=Options(verify=False))
    assert result['source'] == 'cache' and sim.log() == []
    assert Options.from_params({'verify': False}).verify is False and Options.from_params({}).verify is True


def test_creatio_redirect_url_declares_a_typed_request():
    request = redirect_urls.declare(dict(client_name='Web', client_id=None, redirect_urls=['HTTPS://Web.example/cb'],
                                         state='present', purge=False, redirect_url_id=None, redirect_url=None,
                                         add_unconfirmed_redirect_urls=True, verify=False))
    assert isinstance(request, RedirectRequest)
    assert (request.urls, request.verify, request.add_unconfirmed_redirect_urls) == (['https://web.example/cb'], False, True)


def count_validations(monkeypatch, url):
    """The calls of the URL validator for ``url`` (in any case), by the option it was validated for."""
    calls = []
    real = normalize.url

    def counting(value, option, *args, **kwargs):
        if isinstance(value, str) and value.lower() == url.lower():
            calls.append(option)
        return real(value, option, *args, **kwargs)
    monkeypatch.setattr(normalize, 'url', counting)
    return calls


def test_a_redirect_uri_is_validated_once_per_task(sim, tmp_path, monkeypatch):
    """The declared URI goes through the validator once (declare); the plan, the result's client view and
    the diff trust it. The only other calls are where the same URI enters again from Creatio: the answer of
    AddRedirectUrls (its id) and the RedirectUrl column of the OData row read back once more at the end."""
    url = 'https://portal.example.com/cb'
    calls = count_validations(monkeypatch, url)
    run = make_run(sim, tmp_path, **params('Portal', grant_type='authorization_code', system_user_id=None,
                                           application_url='https://portal.example.com', redirect_urls=[url.upper()[:8] + url[8:]]))
    run.diff = True
    result = integration.apply_one(run)
    assert result['changed'] and result['client']['redirect_urls'][0]['url'] == url and result['diff']['after']['redirect_urls'] == [url]
    assert calls.count('redirect_urls') == 1, calls  # the user's value: validated once
    assert calls == ['redirect_urls', 'stored', 'stored'], calls  # and once per answer of Creatio that names it


def test_creatio_redirect_url_validates_a_uri_once(sim, tmp_path, monkeypatch):
    integration.apply(make_run(sim, tmp_path), integration.declare(params(
        'Web', grant_type='authorization_code', system_user_id=None, redirect_urls=['https://web.example.com/cb'])))
    url = 'https://web.example.com/second'
    calls = count_validations(monkeypatch, url)
    run = make_run(sim, tmp_path, client_name='Web', client_id=None, redirect_urls=[url], state='present', purge=False,
                   redirect_url_id=None, redirect_url=None, add_unconfirmed_redirect_urls=False)
    run.diff = True
    result = redirect_urls.apply(run)
    assert result['added'] == [url] and result['diff']['after']['redirect_urls'] == ['https://web.example.com/cb', url]
    assert calls.count('redirect_urls') == 1, calls
    assert calls == ['redirect_urls', 'stored'], calls


def test_a_batch_validates_each_redirect_uri_once(sim, tmp_path, monkeypatch):
    url = 'https://outlook.example.com/cb'
    calls = count_validations(monkeypatch, url)
    item = dict(webhook_item('Outlook', preset='outlook_addin', system_user_id=None, application_url=None,
                             redirect_urls=['HTTPS://Outlook.Example.com/cb']))
    run = make_run(sim, tmp_path, clients=[item], secrets_dir=None, verify_tokens=False, rotation_grace_hours=24)
    run.diff = True
    outcome = batch.apply_many(run)
    assert outcome['clients'][0]['client']['redirect_urls'][0]['url'] == url and outcome['diff'][0]['after']['redirect_urls'] == [url]
    assert calls == ['redirect_urls', 'stored', 'stored'], calls  # declared once; Creatio's answer and its row once each
