# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options: validation before any request, URL normalisation, env fallbacks."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.creatio.oauth.plugins.module_utils import connection
from ansible_collections.creatio.oauth.plugins.module_utils.auth import ClientCredentialsLogin, FormsLogin
from ansible_collections.creatio.oauth.plugins.module_utils.errors import ConfigurationError

ENV_VARIABLES = ('CREATIO_URL', 'CREATIO_USERNAME', 'CREATIO_PASSWORD', 'CREATIO_CLIENT_ID', 'CREATIO_CLIENT_SECRET',
                 'CREATIO_IDENTITY_URL', 'CREATIO_VALIDATE_CERTS', 'CREATIO_CA_PATH', 'CREATIO_REQUEST_TIMEOUT',
                 'CREATIO_CACHE_PATH', 'CREATIO_REUSE_SESSION')


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


# --- login methods -----------------------------------------------------------------------------------

def test_forms_login():
    assert connection.validate_connection(forms()) == ('https://site.example', 'forms', None)


def test_both_login_methods_refused():
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(forms(creatio_client_id='cid', creatio_client_secret='sec'))
    assert 'exactly one login method' in info.value.message
    with pytest.raises(ConfigurationError):
        connection.validate_connection(params(creatio_username='u', creatio_client_secret='sec'))


def test_no_login_refused():
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(params())
    assert 'no login given' in info.value.message


@pytest.mark.parametrize('given, missing', [
    ({'creatio_username': 'u'}, 'creatio_password'),
    ({'creatio_password': 'Half-Pair-Password'}, 'creatio_username'),
    ({'creatio_client_id': 'cid'}, 'creatio_client_secret'),
    ({'creatio_client_secret': 'Half-Pair-Secret'}, 'creatio_client_id'),
])
def test_half_pair_names_the_missing_half(given, missing):
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(params(**given))
    assert info.value.option == missing
    assert '%s is missing' % missing in info.value.message
    assert 'Half-Pair' not in info.value.full_message()


@pytest.mark.parametrize('timeout', [0, -1, 3601])
def test_request_timeout_range(timeout):
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(forms(request_timeout=timeout))
    assert info.value.option == 'request_timeout'


def test_ca_path_must_exist(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(forms(ca_path=str(tmp_path / 'missing.pem')))
    assert info.value.option == 'ca_path'
    (tmp_path / 'ca.pem').write_text('x')
    connection.validate_connection(forms(ca_path=str(tmp_path / 'ca.pem')))


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
    assert connection.normalize_site_url(value) == expected


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
        connection.normalize_site_url(value)
    assert option_words in info.value.message
    assert info.value.option == 'creatio_url'


def test_creatio_url_userinfo_refused_without_echoing_the_password():
    for value in ('https://admin:S3cr3t-In-Url@site.example/', 'https://admin:S3cr3t-In-Url@site.example/0/'):
        with pytest.raises(ConfigurationError) as info:
            connection.validate_connection(forms(creatio_url=value))
        assert 'user name or password' in info.value.message
        assert 'S3cr3t-In-Url' not in info.value.full_message() and 'S3cr3t-In-Url' not in str(info.value)


# --- identity URL ------------------------------------------------------------------------------------

def test_cloud_identity_url_default():
    result = connection.validate_connection(params(creatio_url='https://123-CRM.creatio.com/',
                                                   creatio_client_id='cid', creatio_client_secret='sec'))
    assert result == ('https://123-crm.creatio.com', 'oauth', 'https://123-crm-is.creatio.com')


def test_identity_url_required_off_cloud():
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(params(creatio_client_id='cid', creatio_client_secret='sec'))
    assert info.value.option == 'creatio_identity_url'
    with pytest.raises(ConfigurationError):
        connection.validate_connection(params(creatio_url='https://a.b.creatio.com', creatio_client_id='c', creatio_client_secret='s'))


@pytest.mark.parametrize('value, expected', [
    ('https://IS.example/', 'https://is.example'),
    ('https://is.example/connect/token', 'https://is.example'),
    ('https://is.example/identity/connect/token/', 'https://is.example/identity'),
])
def test_identity_url_normalised(value, expected):
    result = connection.validate_connection(params(creatio_client_id='cid', creatio_client_secret='sec', creatio_identity_url=value))
    assert result[2] == expected


def test_identity_url_refused():
    with pytest.raises(ConfigurationError) as info:
        connection.normalize_identity_url('is.example/connect/token')
    assert info.value.option == 'creatio_identity_url'


@pytest.mark.parametrize('value', ['https://cid:Id3ntity-Pw@is.example/', 'https://cid:Id3ntity-Pw@is.example/#frag',
                                   'https://cid:Id3ntity-Pw@is.example/connect/token?x=1'])
def test_identity_url_userinfo_refused_without_echoing_the_password(value):
    with pytest.raises(ConfigurationError) as info:
        connection.validate_connection(params(creatio_client_id='cid', creatio_client_secret='sec', creatio_identity_url=value))
    assert info.value.option == 'creatio_identity_url' and 'user name or password' in info.value.message
    assert 'Id3ntity-Pw' not in info.value.full_message()


def test_identity_url_for_secret_file():
    assert connection.identity_url_for_secret_file({}, 'https://123-crm.creatio.com') == 'https://123-crm-is.creatio.com/connect/token'
    assert connection.identity_url_for_secret_file({'creatio_identity_url': 'https://is.example/'}, 'https://x') == \
        'https://is.example/connect/token'
    assert connection.identity_url_for_secret_file({}, 'https://onsite.example') is None


# --- build_client --------------------------------------------------------------------------------------

def test_build_client_forms_and_oauth(tmp_path):
    client = connection.build_client(forms(creatio_url='https://Site.example/App/', request_timeout=12.0), session_store='store')
    assert isinstance(client.login_method, FormsLogin) and client.site_url == 'https://site.example/App'
    assert client.transport.timeout == 12.0 and client.transport.verify is True and client.session_store == 'store'
    client.transport.close()
    (tmp_path / 'ca.pem').write_text('x')
    client = connection.build_client(params(creatio_client_id='cid', creatio_client_secret='sec', creatio_identity_url='https://is.example',
                                            ca_path=str(tmp_path / 'ca.pem'), reuse_session=False), session_store='store')
    assert isinstance(client.login_method, ClientCredentialsLogin) and client.login_method.identity_url == 'https://is.example'
    assert client.transport.verify == str(tmp_path / 'ca.pem') and client.session_store is None
    client.transport.close()
    client = connection.build_client(forms(validate_certs=False, ca_path=str(tmp_path / 'ca.pem')))
    assert client.transport.verify is False
    client.transport.close()


def test_cache_path_of(monkeypatch):
    monkeypatch.setenv('HOME', '/home/someone')
    assert connection.cache_path_of({'cache_path': None}) == '/home/someone/.ansible/creatio_oauth/facts.json'
    assert connection.cache_path_of({'cache_path': '/x/facts.json'}) == '/x/facts.json'


def test_argspec_copies_are_independent():
    spec = connection.connection_argspec()
    spec['creatio_url']['required'] = False
    assert connection.CONNECTION_ARGSPEC['creatio_url']['required'] is True
    spec = connection.verify_argspec()
    spec['verify']['default'] = False
    assert connection.VERIFY_ARGSPEC['verify']['default'] is True


# --- environment fallbacks through AnsibleModule -------------------------------------------------------

def merged_argspec():
    spec = connection.connection_argspec()
    spec.update(connection.verify_argspec())
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
    with module_args({'name': 'x'}):
        module = AnsibleModule(argument_spec=merged_argspec())
    p = module.params
    assert p['creatio_url'] == 'https://env.example' and p['creatio_username'] == 'env-user'
    assert p['creatio_password'] == 'env-password' and p['creatio_identity_url'] == 'https://env-is.example'
    assert p['validate_certs'] is False and p['ca_path'] == '/env/ca.pem'
    assert p['request_timeout'] == 12.5 and p['cache_path'] == '/env/facts.json' and p['reuse_session'] is False
    assert p['verify'] is True and p['creatio_client_id'] is None
    assert 'env-password' in module.no_log_values


def test_task_arguments_beat_environment(monkeypatch, module_args):
    for name in ENV_VARIABLES:
        monkeypatch.setenv(name, {'CREATIO_VALIDATE_CERTS': 'false', 'CREATIO_REUSE_SESSION': 'false',
                                  'CREATIO_REQUEST_TIMEOUT': '99'}.get(name, 'env-' + name.lower()))
    args = {'creatio_url': 'https://task.example', 'creatio_username': 'task-user', 'creatio_password': 'task-password',
            'creatio_client_id': 'task-cid', 'creatio_client_secret': 'task-secret', 'creatio_identity_url': 'https://task-is.example',
            'validate_certs': True, 'ca_path': '/task/ca.pem', 'request_timeout': 5, 'cache_path': '/task/facts.json',
            'reuse_session': True}
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
