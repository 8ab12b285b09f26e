# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HttpTransport: backoff policy, Retry-After parsing, TLS settings (real TLS on 127.0.0.1)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


import shutil
import subprocess

import pytest
import requests

from ansible_collections.creatio.oauth.plugins.module_utils import _transport as transport_mod
from ansible_collections.creatio.oauth.plugins.module_utils._auth import login_for
from ansible_collections.creatio.oauth.plugins.module_utils._client import CreatioClient
from ansible_collections.creatio.oauth.plugins.module_utils._connection import Connection
from ansible_collections.creatio.oauth.plugins.module_utils._errors import ConfigurationError, NotCreatioEndpointError, TLSError
from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport, RetryPolicy
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import ADMIN, ADMIN_PASSWORD, client_for, forms_login

from creatio_simulator import AUTOMATION_CLIENT_ID, AUTOMATION_CLIENT_SECRET  # pylint: disable=import-error


def test_retry_policy_backoff_bounds():
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0, max_retry_after=60.0)
    for attempt in range(8):
        for _dummy in range(20):
            assert 0 <= policy.delay(attempt) <= min(8.0, 0.5 * 2 ** attempt)
    assert policy.delay(0, retry_after=3) == 3
    assert policy.delay(5, retry_after=0) == 0
    assert policy.delay(0, retry_after=3600) == 60.0


def _response(headers):
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


def test_retry_after_parsing():
    assert transport_mod._retry_after_seconds(_response({'Retry-After': '7'})) == 7.0
    assert transport_mod._retry_after_seconds(_response({'Retry-After': '1.5'})) == 1.5
    assert transport_mod._retry_after_seconds(_response({'Retry-After': '-3'})) == 0.0
    assert transport_mod._retry_after_seconds(_response({'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT'})) is None
    assert transport_mod._retry_after_seconds(_response({})) is None
    assert transport_mod._retry_after_seconds(None) is None


def test_http_date_retry_after_falls_back_to_backoff(sim):
    sleeps = []
    transport = HttpTransport(timeout=5, retry=RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.002), sleep=sleeps.append)
    sim.configure(faults=[{'endpoint': 'Login', 'status': 503, 'count': 1, 'retry_after': 'Wed, 21 Oct 2015 07:28:00 GMT'}])
    client = client_for(sim.url, forms_login(sim.url, ADMIN, ADMIN_PASSWORD), transport)
    client.odata_clients()
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.002
    assert [e['status'] for e in sim.log() if e['endpoint'] == 'Login'] == [503, 200]


def test_verify_setting():
    def verify(**tls):
        return HttpTransport.for_connection(Connection('https://site.example', **tls)).verify
    assert verify(validate_certs=True) is True
    assert verify(validate_certs=True, ca_path='/x/ca.pem') == '/x/ca.pem'
    assert verify(validate_certs=False, ca_path='/x/ca.pem') is False


def test_session_rejects_cookies():
    transport = HttpTransport()
    assert isinstance(transport._session.cookies._policy, transport_mod._RejectAllCookies)
    transport.close()


@pytest.fixture
def tls_files(tmp_path):
    """(certificate, key) of a self-signed certificate for 127.0.0.1: the certificate is its own CA bundle."""
    if not shutil.which('openssl'):
        pytest.skip('openssl not available')
    cert, key = str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1'], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return cert, key


@pytest.fixture
def tls_sim(sim_factory, tls_files):
    cert, key = tls_files
    return sim_factory(tls_cert=cert, tls_key=key), cert


def _tls_client(sim, **kwargs):
    transport = HttpTransport(timeout=5, retry=RetryPolicy(attempts=1), verify=Connection(sim.url, **kwargs).verify)
    return client_for(sim.url, forms_login(sim.url, ADMIN, ADMIN_PASSWORD), transport)


def test_tls_unknown_authority_is_a_tls_error(tls_sim):
    sim, _cert = tls_sim
    with pytest.raises(TLSError) as info:
        _tls_client(sim).odata_clients()
    assert 'certificate verify failed' in info.value.message and 'ca_path' in info.value.hint
    assert ADMIN_PASSWORD not in info.value.full_message()
    assert sim.log() == []


@pytest.mark.filterwarnings('ignore::urllib3.exceptions.InsecureRequestWarning')
def test_tls_with_ca_path_or_without_validation(tls_sim):
    sim, cert = tls_sim
    assert _tls_client(sim, ca_path=cert).odata_clients()
    assert _tls_client(sim, validate_certs=False).odata_clients()
    assert [e['endpoint'] for e in sim.log()] == ['Login', 'OData', 'Login', 'OData']


# --- an https site keeps its session on https (issue 20) -------------------------------------------------

class _OriginRecorder(HttpTransport):
    """Records the URL of every request really sent."""

    def __init__(self, *args, **kwargs):
        super(_OriginRecorder, self).__init__(*args, **kwargs)
        self.urls = []
        real = self._session.request

        def recording(method, url, **kw):
            self.urls.append(url)
            return real(method, url, **kw)
        self._session.request = recording


def _paging_client(sim, cert):
    transport = _OriginRecorder(timeout=5, retry=RetryPolicy(attempts=1), verify=cert)
    client = client_for(sim.url, forms_login(sim.url, ADMIN, ADMIN_PASSWORD), transport)
    client_warnings = []
    client.warn = client_warnings.append
    return client, client_warnings


NEXT_LINK = '"@odata.nextLink": "'


def test_http_next_link_of_an_https_site_is_followed_over_https_with_a_warning(sim_factory, tls_files):
    """Behind a proxy that offloads TLS, OData writes http:// paging links: the next page is read over
    https (the session cookie never goes over http), and the run says so."""
    cert, key = tls_files
    sim = sim_factory(tls_cert=cert, tls_key=key, odata_page_size=2)
    client, warnings = _paging_client(sim, cert)
    expected = client.odata_rows('SysAdminUnit', ['Id', 'Name'])
    assert len(expected) > 2 and not warnings
    sim.configure(faults=[{'endpoint': 'SysAdminUnit', 'rewrite': [[NEXT_LINK + 'https://', NEXT_LINK + 'http://']], 'count': None}])
    assert client.odata_rows('SysAdminUnit', ['Id', 'Name']) == expected
    assert all(url.startswith('https://') for url in client.transport.urls)
    assert len(warnings) >= 1 and 'followed over https' in warnings[0]
    assert all(e['status'] == 200 for e in sim.log())


@pytest.mark.parametrize('replacement', ['https://localhost:{port}', 'https://127.0.0.1:1', 'http://127.0.0.1:1'])
def test_next_link_to_another_origin_is_refused(sim_factory, tls_files, replacement):
    cert, key = tls_files
    sim = sim_factory(tls_cert=cert, tls_key=key, odata_page_size=2)
    client, _warnings = _paging_client(sim, cert)
    client.logged_in()
    port = sim.url.rsplit(':', 1)[1]
    sim.configure(faults=[{'endpoint': 'SysAdminUnit', 'count': None,
                           'rewrite': [[NEXT_LINK + r'https://127\.0\.0\.1:\d+', NEXT_LINK + replacement.format(port=port)]]}])
    with pytest.raises(NotCreatioEndpointError) as info:
        client.odata_rows('SysAdminUnit', ['Id', 'Name'])
    assert 'not followed' in info.value.message and info.value.call == 'OData SysAdminUnit'
    assert all(url.startswith(sim.url + '/') for url in client.transport.urls)


@pytest.mark.parametrize('value', ['5', '["x"]', '{"a": 1}'])
def test_next_link_that_is_not_a_url_is_a_clear_error(sim_factory, value):
    sim = sim_factory(odata_page_size=2)
    client = client_for(sim.url, forms_login(sim.url, ADMIN, ADMIN_PASSWORD), HttpTransport(timeout=5))
    sim.configure(faults=[{'endpoint': 'SysAdminUnit', 'count': None, 'rewrite': [[NEXT_LINK + r'[^"]*"', NEXT_LINK[:-1] + value]]}])
    with pytest.raises(NotCreatioEndpointError) as info:
        client.odata_rows('SysAdminUnit', ['Id', 'Name'])
    assert info.value.call == 'OData SysAdminUnit' and 'not a URL' in info.value.message


def _discovering_client(sim, cert):
    connection = Connection(sim.url, login_kind='oauth', client_id=AUTOMATION_CLIENT_ID, client_secret=AUTOMATION_CLIENT_SECRET)
    transport = HttpTransport(timeout=5, retry=RetryPolicy(attempts=1), verify=cert)
    return CreatioClient(connection, login_for(connection), transport)


def test_discovered_token_endpoint_elsewhere_is_refused_and_the_secret_stays(sim_factory, tls_files):
    """The https site's OpenID configuration names an http token endpoint (here a plain http site on the same
    host): the client secret is not sent there; the error names what was discovered and creatio_identity_url."""
    cert, key = tls_files
    site, cleartext = sim_factory(tls_cert=cert, tls_key=key), sim_factory()
    site.configure(faults=[{'endpoint': 'OpenIdConfiguration', 'count': None,
                            'rewrite': [['"token_endpoint": "[^"]*"', '"token_endpoint": "%s/connect/token"' % cleartext.identity_url]]}])
    client = _discovering_client(site, cert)
    with pytest.raises(ConfigurationError) as info:
        client.odata_clients()
    assert info.value.option == 'creatio_identity_url'
    assert cleartext.identity_url + '/connect/token' in info.value.message and 'creatio_identity_url' in info.value.hint
    assert cleartext.log() == []  # nothing, above all no client secret, went to it
    assert client.token_url() is None  # shown nowhere as if it were the identity service


def test_discovered_token_endpoint_on_the_site_is_used(sim_factory, tls_files):
    cert, key = tls_files
    site = sim_factory(tls_cert=cert, tls_key=key)
    client = _discovering_client(site, cert)
    assert client.odata_clients()
    assert client.token_url() == site.identity_url + '/connect/token'


@pytest.mark.parametrize('endpoint, trusted', [
    ('https://mysite-is.creatio.com/connect/token', True),
    ('https://mysite.creatio.com:443/0/connect/token', True),
    ('http://mysite-is.creatio.com/connect/token', False),
    ('https://evil.example/connect/token', False),
    ('https://mysite.creatio.com:8443/connect/token', False),
    ('/connect/token', False),
])
def test_discovered_endpoint_must_be_the_site_or_its_cloud_identity_service(endpoint, trusted):
    connection = Connection('https://mysite.creatio.com', login_kind='oauth', client_id='cid', client_secret='secret')
    client = CreatioClient(connection, login_for(connection), transport=None)
    client._openid = {'token_endpoint': endpoint}
    if trusted:
        assert client.token_url(required_by='creatio_client_id') == endpoint
        return
    with pytest.raises(ConfigurationError) as info:
        client.token_url(required_by='creatio_client_id')
    assert endpoint in info.value.message and info.value.option == 'creatio_identity_url'


def test_verify_tokens_names_a_refused_published_token_endpoint_before_any_write(sim_factory, tls_files, tmp_path):
    """verify_tokens on a site whose OpenID configuration names an http token endpoint: the run stops before
    AddClient with the refusal that names the published endpoint (not "publishes no OpenID configuration")."""
    from ansible_collections.creatio.oauth.plugins.module_utils import _batch as batch
    from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import make_run, webhook_item
    cert, key = tls_files
    site = sim_factory(tls_cert=cert, tls_key=key)
    elsewhere = 'http://127.0.0.1:9/connect/token'
    site.configure(faults=[{'endpoint': 'OpenIdConfiguration', 'count': None,
                            'rewrite': [['"token_endpoint": "[^"]*"', '"token_endpoint": "%s"' % elsewhere]]}])
    run = make_run(site, tmp_path, ca_path=cert, clients=[webhook_item()], secrets_dir=str(tmp_path / 'secrets'),
                   verify_tokens=True)
    with pytest.raises(ConfigurationError) as info:
        batch.apply_many(run)
    assert elsewhere in info.value.message and 'Webhooks' in info.value.message, info.value.message
    assert 'publishes no OpenID configuration' not in info.value.message
    assert not [e for e in site.log() if e['endpoint'] == 'AddClient']
