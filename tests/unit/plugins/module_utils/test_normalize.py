# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input validation and normalisation."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _normalize as normalize
from ansible_collections.creatio.oauth.plugins.module_utils._records import Record, diff_view_of, url_rows, view_of
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError

SECRET_WORDS = ('secret', 'password', 'token', 'cookie', 'csrf')


@pytest.mark.parametrize('value, expected', [
    ('https://App.Example.COM/Callback/Path?Q=A', 'https://app.example.com/Callback/Path?Q=A'),
    ('HTTP://Host.Example:8080/CB', 'http://host.example:8080/CB'),
    ('http://127.0.0.1:5000/cb', 'http://127.0.0.1:5000/cb'),
    ('https://[::1]:8443/cb', 'https://[::1]:8443/cb'),
    ('https://host.example', 'https://host.example'),
    ('com.example.app:/callback', 'com.example.app:/callback'),
    ('Com.Example.App:/CallBack', 'com.example.app:/CallBack'),
])
def test_url_accepts_and_lowercases_scheme_and_host_only(value, expected):
    assert normalize.url(value, 'redirect_urls', allow_private_scheme=True) == expected


def test_private_scheme_only_where_allowed():
    with pytest.raises(ConfigurationError) as info:
        normalize.url('com.example.app:/callback', 'application_url')
    assert info.value.option == 'application_url' and 'http or https' in info.value.message


@pytest.mark.parametrize('value, words', [
    ('/relative/path', 'no scheme'),
    ('app.example.com/cb', 'no scheme'),
    ('https://app.example.com/cb#frag', 'fragment'),
    ('https://app.example.com/a b', 'white space'),
    ('https://app.example.com/a\tb', 'white space'),
    ('', 'empty'),
    ('https://' + 'a' * 2050 + '.example', 'limit is 2048'),
    (u'https://b\u00fccher.example/cb', 'non-ASCII'),
    (u'https://app.example/caf\u00e9', 'non-ASCII'),
    ('javascript:alert(1)', 'scheme'),
    ('JavaScript:alert(1)', 'scheme'),
    ('data:text/html,<x>', 'not allowed in a URI'),
    ('data:text/html;base64,AAAA', 'scheme'),
    ('file:///etc/passwd', 'scheme'),
    ('myapp:/cb', 'reverse'),
    ('https://user:pass@app.example.com/cb', 'user name or password'),
    ('https://user@app.example.com/cb', 'user name or password'),
    ('https:///nohost', 'no host'),
    ('https:app.example', 'no host'),
    ('https://app.example:99999/cb', 'invalid port'),
    ('com.example.app:', 'nothing after the scheme'),
])
def test_url_refuses(value, words):
    with pytest.raises(ConfigurationError) as info:
        normalize.url(value, 'redirect_urls', allow_private_scheme=True)
    assert words in info.value.message
    assert info.value.option == 'redirect_urls'


def test_url_userinfo_never_echoed():
    with pytest.raises(ConfigurationError) as info:
        normalize.url('https://user:Hunter2Secret@app.example.com/cb', 'application_url')
    assert 'Hunter2Secret' not in info.value.full_message()


@pytest.mark.parametrize('value', [None, 42, ['https://a.example'], {'url': 'x'}, b'https://a.example'])
def test_url_refuses_non_strings(value):
    with pytest.raises(ConfigurationError) as info:
        normalize.url(value, 'application_url')
    assert 'string' in info.value.message


def test_url_length_limit_is_2048():
    base = 'https://a.example/'
    ok = base + 'x' * (2048 - len(base))
    assert normalize.url(ok, 'application_url') == ok
    with pytest.raises(ConfigurationError):
        normalize.url(ok + 'x', 'application_url')


def test_stored_url_never_refuses():
    assert normalize.stored_url('HTTPS://A.EXAMPLE/cb#x') == 'https://a.example/cb#x'
    assert normalize.stored_url('not a url') == 'not a url'


def test_redirect_urls_dedupes_after_normalisation_keeping_order():
    values = ['https://B.example/cb', 'https://a.example/cb', 'HTTPS://b.EXAMPLE/cb', 'https://a.example/CB', 'https://a.example/cb']
    assert normalize.redirect_urls(values) == ['https://b.example/cb', 'https://a.example/cb', 'https://a.example/CB']
    assert normalize.redirect_urls(None) is None
    assert normalize.redirect_urls([]) == []
    with pytest.raises(ConfigurationError):
        normalize.redirect_urls('https://a.example/cb')
    with pytest.raises(ConfigurationError):
        normalize.redirect_urls(['https://a.example/cb', 'javascript:alert(1)'])


def test_guid():
    # any GUID will do (not one of the simulator's seeded users)
    assert normalize.guid('ABCDEF01-2345-4678-9ABC-DEF012345678', 'x') == 'abcdef01-2345-4678-9abc-def012345678'
    assert normalize.guid('{abcdef01-2345-4678-9abc-def012345678}', 'x') == 'abcdef01-2345-4678-9abc-def012345678'
    assert normalize.guid(' abcdef01-2345-4678-9abc-def012345678 ', 'x') == 'abcdef01-2345-4678-9abc-def012345678'
    assert normalize.guid(None, 'x') is None
    for bad in ('abcdef01234546789abcdef012345678', 'not-a-guid', 'abcdef01-2345-4678-9abc-def01234567g', 123, ''):
        with pytest.raises(ConfigurationError) as info:
            normalize.guid(bad, 'system_user_id')
        assert info.value.option == 'system_user_id'
        assert 'user record' in info.value.hint and '410006e1' not in info.value.message
    with pytest.raises(ConfigurationError) as info:
        normalize.guid('abc', 'redirect_url_id', what='redirect URI')
    assert 'Authorized redirect URIs' in info.value.hint and 'user' not in info.value.hint


def test_name():
    assert normalize.name('PowerBI connector') == 'PowerBI connector'
    assert normalize.name(u'Caf\u00e9 app') == u'Caf\u00e9 app'
    assert normalize.name('x' * 250) == 'x' * 250
    for bad, words in ((' lead', 'white space'), ('trail ', 'white space'), ('', 'non-empty'), ('   ', 'non-empty'),
                       (None, 'non-empty'), (5, 'non-empty'), ('a\nb', 'control'), ('a\x00b', 'control'),
                       ('a\x7fb', 'control'), ('x' * 251, '251 characters')):
        with pytest.raises(ConfigurationError) as info:
            normalize.name(bad, 'client_name')
        assert words in info.value.message and info.value.option == 'client_name'


def test_client_id():
    assert normalize.client_id(None) is None
    assert normalize.client_id('0123456789abcdef0123456789abcdef') == '0123456789abcdef0123456789abcdef'
    for bad in ('', 'has space', 'x' * 129, "quote'", 5):
        with pytest.raises(ConfigurationError):
            normalize.client_id(bad)


def test_url_rows_are_sorted_and_only_formatted():
    # URLs are normalised where they enter a Record (the declaration, Creatio's answers, the facts cache):
    # the result rows only sort them, they never validate a URL again.
    rows = url_rows([{'id': 'b', 'url': 'https://b.example/x'}, {'id': 'a', 'url': 'https://a.example/x'},
                     {'id': None, 'url': 'https://a.example/x'}])
    assert rows == [
        {'id': None, 'url': 'https://a.example/x'}, {'id': 'a', 'url': 'https://a.example/x'}, {'id': 'b', 'url': 'https://b.example/x'}]
    assert url_rows([{'id': 'c', 'url': 'HTTPS://C.example/x'}]) == [{'id': 'c', 'url': 'HTTPS://C.example/x'}]
    assert Record.from_cache('App', {'redirect_urls': [{'id': 'c', 'url': 'HTTPS://C.example/x'}]}).known_urls() == [
        'https://c.example/x']


def _keys(obj):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield key
            yield from _keys(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _keys(item)


def test_client_and_diff_views_never_hold_a_secret():
    record = {'name': 'App', 'client_id': 'cid', 'grant_type': 'authorization_code', 'application_url': 'https://a.example',
              'system_user_id': None, 'active': True, 'client_secret': 'S3CRET-VALUE', 'clientSecret': 'S3CRET-VALUE',
              'password': 'S3CRET-VALUE', 'token': 'S3CRET-VALUE', 'cookies': {'.ASPXAUTH': 'S3CRET-VALUE'},
              'redirect_urls': [{'id': 'i2', 'url': 'HTTPS://B.example/cb', 'secret': 'S3CRET-VALUE'},
                                {'id': 'i1', 'url': 'https://a.example/cb'}]}
    client = view_of(Record.from_cache('App', record))
    diff = diff_view_of(Record.from_cache('App', record))
    for view in (client, diff):
        assert 'S3CRET-VALUE' not in repr(view)
        for key in _keys(view):
            assert not any(word in key.lower() for word in SECRET_WORDS), key
    assert set(client) == {'name', 'client_id', 'grant_type', 'application_url', 'system_user_id', 'active', 'redirect_urls'}
    assert client['redirect_urls'] == [{'id': 'i1', 'url': 'https://a.example/cb'}, {'id': 'i2', 'url': 'https://b.example/cb'}]
    assert diff['redirect_urls'] == ['https://a.example/cb', 'https://b.example/cb']
    assert view_of(None) == {} and diff_view_of(None) == {}
    assert Record('x').diff_view()['redirect_urls'] == []


# --- issue 20 item 7: plain http redirect URIs to other hosts, hidden characters in names -----------

@pytest.mark.parametrize('value', ['http://app.example.com/cb', 'HTTP://Host.Example:8080/CB', 'http://10.0.0.5/cb',
                                   'http://localhost.example.com/cb', 'http://127.0.0.1.nip.io/cb', 'http://[::2]/cb'])
def test_plain_http_redirect_uris_to_other_hosts_are_refused(value):
    for check in (lambda: normalize.redirect_urls([value]), lambda: normalize.redirect_url(value, 'redirect_url')):
        with pytest.raises(ConfigurationError) as info:
            check()
        assert 'plain http to a host that is not loopback' in info.value.message and 'use https' in info.value.hint
    assert info.value.option == 'redirect_url'
    assert normalize.redirect_urls([value], removing=True) == [normalize.url(value, 'x')]  # one Creatio holds can go


@pytest.mark.parametrize('value', ['http://127.0.0.1:5000/cb', 'http://127.8.9.10/cb', 'http://[::1]:8080/cb',
                                   'http://LOCALHOST:3000/cb', 'https://app.example.com/cb', 'com.example.app:/cb'])
def test_loopback_http_https_and_private_schemes_stay_accepted(value):
    assert normalize.redirect_urls([value]) == [normalize.url(value, 'x', allow_private_scheme=True)]


@pytest.mark.parametrize('char', [u'\u0085', u'\u2028', u'\u2029', u'\u200b', u'\u200d', u'\u202e', u'\ufeff', u'\u00ad',
                                  u'\u2066', u'\x9b', u'\x1b', u'\x7f'])
def test_names_with_control_or_invisible_characters_are_refused(char):
    for option in ('name', 'system_user'):
        with pytest.raises(ConfigurationError) as info:
            normalize.name(u'Power' + char + u'BI', option)
        assert info.value.option == option and 'control or invisible characters' in info.value.message
        assert 'U+%04X' % ord(char) in info.value.message and 'at position 6' in info.value.message


def test_names_in_any_script_with_spaces_and_symbols_stay_accepted():
    for value in (u'Интеграция 1', u'报表', u'Power BI (prod) – 2', u"O'Brien", u'Café\u00a0Bar', u'x' * 250):
        assert normalize.name(value) == value
