# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: validation before any request, URL normalisation, env fallbacks."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


import os
import shutil

import certifi
import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils import _connection as connection
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError
from ansible_collections.creatio.oauth.plugins.module_utils._client import CreatioClient

ENV_VARIABLES = ('CREATIO_URL', 'CREATIO_USERNAME', 'CREATIO_PASSWORD', 'CREATIO_CLIENT_ID', 'CREATIO_CLIENT_SECRET',
                 'CREATIO_IDENTITY_URL', 'CREATIO_VALIDATE_CERTS', 'CREATIO_CA_PATH', 'CREATIO_REQUEST_TIMEOUT',
                 'CREATIO_CACHE_PATH', 'CREATIO_REUSE_SESSION', 'CREATIO_PLATFORM')


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def params(**kw):
    base = dict((k, v.get('default')) for k, v in connection.CONNECTION_ARGSPEC.items())
    base['creatio_url'] = 'https://site.example'
    base.update(kw)
    return base


def forms(**kw):
    return params(creatio_username='Supervisor', creatio_password='pw', **kw)


def validated(given):
    """(site, login kind, identity URL of an OAuth login) of the Connection made from ``given``."""
    made = connection.Connection.from_params(given)
    return made.site_url, made.login_kind, made.identity_url if made.login_kind == 'oauth' else None


# --- login methods -----------------------------------------------------------------------------------

def test_forms_login():
    assert validated(forms()) == ('https://site.example', 'forms', None)


def test_both_login_methods_refused():
    with pytest.raises(ConfigurationError) as info:
        validated(forms(creatio_client_id='cid', creatio_client_secret='sec'))
    assert 'exactly one login method' in info.value.message
    with pytest.raises(ConfigurationError):
        validated(params(creatio_username='u', creatio_client_secret='sec'))


def test_no_login_refused():
    with pytest.raises(ConfigurationError) as info:
        validated(params())
    assert 'no login given' in info.value.message


@pytest.mark.parametrize('given, missing', [
    ({'creatio_username': 'u'}, 'creatio_password'),
    ({'creatio_password': 'Half-Pair-Password'}, 'creatio_username'),
    ({'creatio_client_id': 'cid'}, 'creatio_client_secret'),
    ({'creatio_client_secret': 'Half-Pair-Secret'}, 'creatio_client_id'),
])
def test_half_pair_names_the_missing_half(given, missing):
    with pytest.raises(ConfigurationError) as info:
        validated(params(**given))
    assert info.value.option == missing
    assert '%s is missing' % missing in info.value.message
    assert 'Half-Pair' not in info.value.full_message()


@pytest.mark.parametrize('timeout', [0, -1, 3601])
def test_request_timeout_range(timeout):
    with pytest.raises(ConfigurationError) as info:
        validated(forms(request_timeout=timeout))
    assert info.value.option == 'request_timeout'


def test_ca_path_must_exist(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        validated(forms(ca_path=str(tmp_path / 'missing.pem')))
    assert info.value.option == 'ca_path'
    shutil.copy(certifi.where(), str(tmp_path / 'ca.pem'))
    validated(forms(ca_path=str(tmp_path / 'ca.pem')))


@pytest.mark.parametrize('content', ['x', 'not a certificate\n', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'])
def test_ca_path_that_is_not_a_pem_bundle_is_named_before_any_request(tmp_path, content):
    (tmp_path / 'garbage.pem').write_text(content)
    with pytest.raises(ConfigurationError) as info:
        validated(forms(ca_path=str(tmp_path / 'garbage.pem')))
    assert info.value.option == 'ca_path'
    assert 'not a usable PEM bundle' in info.value.message and 'garbage.pem' in info.value.message
    # Not checked when it is not used: validate_certs false ignores ca_path.
    validated(forms(ca_path=str(tmp_path / 'garbage.pem'), validate_certs=False))


@pytest.mark.parametrize('option, value, plain', [
    ('creatio_url', u'https://\uff11\uff12\uff17.0.0.1', '127.0.0.1'),
    ('creatio_url', u'https://site.\uff45xample', 'site.example'),
    ('creatio_identity_url', u'https://\uff11\uff12\uff17.0.0.1/identity', '127.0.0.1'),
])
def test_host_with_characters_that_stand_for_others_is_refused_before_any_request(option, value, plain):
    kw = {option: value} if option == 'creatio_url' else {option: value, 'creatio_client_id': 'cid', 'creatio_client_secret': 'sec'}
    base = params(**kw) if option != 'creatio_url' else forms(**kw)
    with pytest.raises(ConfigurationError) as info:
        connection.Connection.from_params(base)
    assert info.value.option == option
    assert 'stand for others' in info.value.message and plain in info.value.hint


def test_internationalized_host_name_is_kept():
    assert connection.site_url_of(u'https://m\u00fcnchen.example') == u'https://m\u00fcnchen.example'


# --- creatio_url ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('https://site.example/', 'https://site.example'),
    ('https://site.example///', 'https://site.example'),
    ('HTTPS://Site.EXAMPLE', 'https://site.example'),
    ('https://HOST.example/CreatioApp/', 'https://host.example/CreatioApp'),
    ('http://host.example:8080/Creatio/App', 'http://host.example:8080/Creatio/App'),
    ('  https://site.example  ', 'https://site.example'),
    ('https://[::1]:5000/', 'https://[::1]:5000'),
])
def test_creatio_url_normalised(value, expected):
    assert connection.site_url_of(value) == expected


@pytest.mark.parametrize('value, option_words', [
    ('https://site.example/0/', '/0/'),
    ('https://site.example/0/rest/OAuthConfigService', '/0/'),
    ('https://host.example/CreatioApp/0/Nui/ViewModule.aspx', '/0/'),
    ('site.example', 'absolute http(s) URL'),
    ('ftp://site.example', 'absolute http(s) URL'),
    ('https://site.example/?a=1', 'query string'),
    ('https://site.example/#x', 'fragment'),
    ('', 'empty'),
    ('https://site.example:notaport', 'invalid port'),
])
def test_creatio_url_refused(value, option_words):
    with pytest.raises(ConfigurationError) as info:
        connection.site_url_of(value)
    assert option_words in info.value.message
    assert info.value.option == 'creatio_url'


def test_creatio_url_userinfo_refused_without_echoing_the_password():
    # a password holding "/", "?" or "#" (or only digits) puts the "@" outside the host part
    for value in ('https://admin:S3cr3t-In-Url@site.example/', 'https://admin:S3cr3t-In-Url@site.example/0/',
                  'https://admin:S3cr3t/In-Url@site.example/', 'https://admin:8443/S3cr3t-In-Url@site.example',
                  'https://admin:S3cr3t?In-Url@site.example/', 'https://admin:S3cr3t#In-Url@site.example/'):
        with pytest.raises(ConfigurationError) as info:
            validated(forms(creatio_url=value))
        assert 'user name or password' in info.value.message
        assert 'S3cr3t' not in info.value.full_message() and 'S3cr3t' not in str(info.value), value
    with pytest.raises(ConfigurationError) as info:
        validated(params(creatio_client_id='cid', creatio_client_secret='sec',
                         creatio_identity_url='https://cid:8443/S3cr3t@is.example'))
    assert info.value.option == 'creatio_identity_url' and 'S3cr3t' not in info.value.full_message()


# --- identity URL ------------------------------------------------------------------------------------

def test_cloud_identity_url_is_the_fallback_and_off_cloud_the_site_is_asked():
    made = connection.Connection.from_params(params(creatio_url='https://123-CRM.creatio.com/', creatio_client_id='cid',
                                                    creatio_client_secret='sec'))
    assert made.identity_url is None  # not given: the client asks the site first (OpenID configuration)
    assert made.cloud_token_url == 'https://123-crm-is.creatio.com/connect/token'
    off_cloud = connection.Connection.from_params(params(creatio_client_id='cid', creatio_client_secret='sec'))
    assert off_cloud.login_kind == 'oauth' and off_cloud.given_token_url is None and off_cloud.cloud_token_url is None
    assert connection.Connection.from_params(params(creatio_url='https://a.b.creatio.com', creatio_client_id='c',
                                                    creatio_client_secret='s')).cloud_token_url is None


@pytest.mark.parametrize('value, expected', [
    ('https://IS.example/', 'https://is.example'),
    ('https://is.example/connect/token', 'https://is.example'),
    ('https://is.example/identity/connect/token/', 'https://is.example/identity'),
])
def test_identity_url_normalised(value, expected):
    result = validated(params(creatio_client_id='cid', creatio_client_secret='sec', creatio_identity_url=value))
    assert result[2] == expected


def test_identity_url_refused():
    with pytest.raises(ConfigurationError) as info:
        connection.identity_url_of('is.example/connect/token')
    assert info.value.option == 'creatio_identity_url'


@pytest.mark.parametrize('value', ['https://cid:Id3ntity-Pw@is.example/', 'https://cid:Id3ntity-Pw@is.example/#frag',
                                   'https://cid:Id3ntity-Pw@is.example/connect/token?x=1'])
def test_identity_url_userinfo_refused_without_echoing_the_password(value):
    with pytest.raises(ConfigurationError) as info:
        validated(params(creatio_client_id='cid', creatio_client_secret='sec', creatio_identity_url=value))
    assert info.value.option == 'creatio_identity_url' and 'user name or password' in info.value.message
    assert 'Id3ntity-Pw' not in info.value.full_message()


# --- one Connection value -------------------------------------------------------------------------------

def test_every_url_and_tls_setting_comes_from_the_one_connection_value(tmp_path, monkeypatch):
    """creatio_url is parsed once, into the Connection; the login, the API calls, the identity
    service and the transport all take their URLs and TLS settings from that value."""
    shutil.copy(certifi.where(), str(tmp_path / 'ca.pem'))
    made = connection.Connection.from_params(params(
        creatio_url='https://Site.example/App/', creatio_client_id='cid', creatio_client_secret='sec',
        creatio_identity_url='https://IS.example/connect/token', ca_path=str(tmp_path / 'ca.pem'), request_timeout=12.0,
        cache_path=str(tmp_path / 'c' / 'facts.json'), reuse_session=False))
    assert made.site_url == 'https://site.example/App'
    assert made.login_url == 'https://site.example/App/ServiceModel/AuthService.svc/Login'
    assert made.api_paths() == ['/0', ''] and made.api_paths('') == ['', '/0']  # auto: /0 first unless remembered
    assert made.api_url('/rest/OAuthConfigService/AddClient', '/0') == 'https://site.example/App/0/rest/OAuthConfigService/AddClient'
    assert made.api_url('/odata/OAuthClientApp', '') == 'https://site.example/App/odata/OAuthClientApp'
    assert made.identity_url == 'https://is.example' and made.given_token_url == 'https://is.example/connect/token'
    for platform, paths in (('netframework', ['/0']), ('netcore', [''])):
        assert connection.Connection.from_params(forms(creatio_platform=platform)).api_paths('') == paths  # pinned
    assert made.verify == str(tmp_path / 'ca.pem') and made.timeout == 12.0
    assert made.session_path == str(tmp_path / 'c' / 'sessions.json')
    # what is built from it uses nothing else: change the value, and every request follows
    made.site_url = 'https://elsewhere.example'
    made.identity_url = 'https://is2.example'
    made.ca_path, made.timeout = None, 7.0
    client = CreatioClient.for_connection(made)
    assert client.site_url == 'https://elsewhere.example' and client.session_store is None
    assert client.token_url() == 'https://is2.example/connect/token'
    assert client.transport.verify is True and client.transport.timeout == 7.0
    client.transport.close()
    # parsed once: the client never looks at the module parameters again
    monkeypatch.setattr(connection, 'site_url_of', lambda value: pytest.fail('creatio_url parsed a second time'))
    forms_client = CreatioClient.for_connection(connection.Connection('https://site.example', login_kind='forms',
                                                                      username='u', password='p', cache_path=str(tmp_path / 'f')))
    assert forms_client.login_method.login_url == 'https://site.example/ServiceModel/AuthService.svc/Login'
    assert forms_client.session_store.file.path == str(tmp_path / 'sessions.json')
    forms_client.transport.close()


def test_cloud_token_url_and_none_off_cloud():
    assert connection.Connection.from_params(forms(creatio_url='https://123-crm.creatio.com')).cloud_token_url == \
        'https://123-crm-is.creatio.com/connect/token'
    assert connection.Connection.from_params(forms(creatio_url='https://onsite.example')).cloud_token_url is None


def test_cache_path_default(monkeypatch):
    monkeypatch.setenv('HOME', '/home/someone')
    assert connection.Connection.from_params(forms()).cache_path == '/home/someone/.ansible/creatio_oauth/facts.json'
    assert connection.Connection.from_params(forms(cache_path='/x/facts.json')).cache_path == '/x/facts.json'


def test_argspec_copies_are_independent():
    spec = connection.connection_argspec()
    spec['creatio_url']['required'] = False
    assert connection.CONNECTION_ARGSPEC['creatio_url']['required'] is True
    spec = connection.connection_argspec(verify=True)
    spec['verify']['default'] = False
    assert connection.VERIFY_ARGSPEC['verify']['default'] is True


# --- environment fallbacks through AnsibleModule -------------------------------------------------------

def merged_argspec():
    spec = connection.connection_argspec(verify=True)
    spec.update(name=dict(type='str'))
    return spec


def test_environment_fallbacks(monkeypatch, module_args):
    monkeypatch.setenv('CREATIO_URL', 'https://env.example')
    monkeypatch.setenv('CREATIO_USERNAME', 'env-user')
    monkeypatch.setenv('CREATIO_PASSWORD', 'env-password')
    monkeypatch.setenv('CREATIO_IDENTITY_URL', 'https://env-is.example')
    monkeypatch.setenv('CREATIO_VALIDATE_CERTS', 'false')
    monkeypatch.setenv('CREATIO_CA_PATH', '/env/ca.pem')
    monkeypatch.setenv('CREATIO_REQUEST_TIMEOUT', '12.5')
    monkeypatch.setenv('CREATIO_CACHE_PATH', '/env/facts.json')
    monkeypatch.setenv('CREATIO_REUSE_SESSION', 'no')
    monkeypatch.setenv('CREATIO_PLATFORM', 'netcore')
    with module_args({'name': 'x'}):
        module = AnsibleModule(argument_spec=merged_argspec())
    p = module.params
    assert p['creatio_url'] == 'https://env.example' and p['creatio_username'] == 'env-user'
    assert p['creatio_password'] == 'env-password' and p['creatio_identity_url'] == 'https://env-is.example'
    assert p['validate_certs'] is False and p['ca_path'] == '/env/ca.pem'
    assert p['request_timeout'] == 12.5 and p['cache_path'] == '/env/facts.json' and p['reuse_session'] is False
    assert p['verify'] is True and p['creatio_client_id'] is None and p['creatio_platform'] == 'netcore'
    assert 'env-password' in module.no_log_values


def test_task_arguments_beat_environment(monkeypatch, module_args):
    for name in ENV_VARIABLES:
        monkeypatch.setenv(name, {'CREATIO_VALIDATE_CERTS': 'false', 'CREATIO_REUSE_SESSION': 'false',
                                  'CREATIO_REQUEST_TIMEOUT': '99', 'CREATIO_PLATFORM': 'netcore'}.get(name, 'env-' + name.lower()))
    args = {'creatio_url': 'https://task.example', 'creatio_username': 'task-user', 'creatio_password': 'task-password',
            'creatio_client_id': 'task-cid', 'creatio_client_secret': 'task-secret', 'creatio_identity_url': 'https://task-is.example',
            'validate_certs': True, 'ca_path': '/task/ca.pem', 'request_timeout': 5, 'cache_path': '/task/facts.json',
            'reuse_session': True, 'creatio_platform': 'netframework'}
    with module_args(args):
        module = AnsibleModule(argument_spec=merged_argspec())
    for key, value in args.items():
        assert module.params[key] == value, key
    assert 'task-secret' in module.no_log_values and 'task-password' in module.no_log_values


def test_defaults_without_environment(module_args):
    with module_args({'creatio_url': 'https://task.example'}):
        module = AnsibleModule(argument_spec=merged_argspec())
    assert module.params['validate_certs'] is True and module.params['request_timeout'] == 30
    assert module.params['reuse_session'] is True and module.params['cache_path'] is None
    assert module.params['creatio_username'] is None
    assert os.environ.get('CREATIO_URL') is None
