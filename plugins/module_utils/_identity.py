# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). The identity service: does it issue a token to a
client credentials integration? The service of creatio_oauth_token_check, and the check the
integrations role runs after creating one."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.creatio.oauth.plugins.module_utils._auth import ClientCredentialsLogin
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    AuthenticationError, ConfigurationError, CreatioError, HttpError, TransportError)


def token_url_of(run, required_by):
    """The token endpoint: given, published by the site, or the cloud convention; raises when none."""
    return run.client.token_url(required_by=required_by)


def check_token(run, client_id, client_secret, name=None):
    """Ask for a token; returns its lifetime in seconds, raises a CreatioError that says what the
    failure means for the check (the secret scrubbed). The token is dropped at once."""
    token_url = token_url_of(run, 'the token check')
    who = 'integration %s (client id %s)' % (name, client_id) if name else 'client id %s' % client_id
    login = ClientCredentialsLogin(token_url, client_id, client_secret)
    transport = run.transport()
    try:
        login.login(transport)
    except CreatioError as exc:
        raise run.scrub(_explain(exc, who, token_url), extra_secrets=[client_secret])
    finally:
        transport.close()
    lifetime = max(0, int(round(login.expires_at - time.time())))
    login.invalidate()
    return lifetime


def _explain(exc, who, token_url):
    """The error of a failed token request, reworded to say what it means for the check."""
    prefix = 'No access token was issued to %s by %s' % (who, token_url)
    if isinstance(exc, AuthenticationError):
        exc.message = '%s: the identity service refused the client' % prefix
        exc.hint = ('the client secret does not match, or the integration is inactive, deleted, or not a '
                    'client_credentials integration')
    elif isinstance(exc, HttpError) and exc.status is not None and exc.status >= 500:
        exc.message = '%s: the identity service is unavailable (it answered HTTP %s)' % (prefix, exc.status)
        exc.hint = 'the Creatio identity service must be running and reachable; try again once it is back'
    elif isinstance(exc, TransportError):
        exc.message = '%s: the identity service cannot be reached (%s)' % (prefix, exc.message)
    else:
        exc.message = '%s: %s' % (prefix, exc.message)
    exc.args = (exc.message,)
    return exc


def token_check(run):
    """The service of creatio_oauth_token_check."""
    params = run.params
    client_id = params['client_id'].strip()
    if not client_id:
        raise ConfigurationError('client_id is empty', option='client_id')
    if not params['client_secret']:
        raise ConfigurationError('client_secret is empty', option='client_secret')
    # Worked out in check mode too (discovery only reads), so that a token URL nobody can find fails there.
    result = {'changed': False, 'client_id': client_id, 'checked': False, 'token_url': token_url_of(run, 'the token check')}
    if run.check_mode:
        result['msg'] = 'check mode: the token request was not sent'
        return result
    result['expires_in'] = check_token(run, client_id, params['client_secret'], params['name'])
    result['checked'] = True
    who = 'integration %s (client id %s)' % (params['name'], client_id) if params['name'] else 'client id %s' % client_id
    result['msg'] = 'the identity service issued an access token to %s' % who
    return result
