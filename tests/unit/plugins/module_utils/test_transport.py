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
from ansible_collections.creatio.oauth.plugins.module_utils._connection import Connection
from ansible_collections.creatio.oauth.plugins.module_utils._errors import TLSError
from ansible_collections.creatio.oauth.plugins.module_utils._transport import HttpTransport, RetryPolicy
from ansible_collections.creatio.oauth.tests.unit.plugins.module_utils.module_runs import ADMIN, ADMIN_PASSWORD, client_for, forms_login


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
def tls_sim(sim_factory, tmp_path):
    if not shutil.which('openssl'):
        pytest.skip('openssl not available')
    cert, key = str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1'], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
