# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API). Recovery (issue 23): the client secret of an
integration that exists, read back from Creatio (GetClientSecret: SRC 8.1; on 8.3 unknown) for a
destination that lacks it, without creating, deleting or changing anything in Creatio.

Where the site does not have GetClientSecret, nothing can read a secret back: the way out is a new
integration (rotation), which this module never does by itself."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import uuid

from ansible_collections.creatio.oauth.plugins.module_utils import _api_assumptions as api
from ansible_collections.creatio.oauth.plugins.module_utils import _secret_file as secret_file
from ansible_collections.creatio.oauth.plugins.module_utils._errors import (
    BusinessError, ConfigurationError, CreatioError, HttpError, UnreadableAnswerError)
from ansible_collections.creatio.oauth.plugins.module_utils._odata import TEXT_TYPES

# The site fact (facts cache): True, or False ("there is none", asked again after a day: _site.SiteFacts.learn_fact).
FACT = 'get_client_secret'
ROTATION = ('the way out is a new integration with a new secret (rotation): delete it (state: absent) and declare it '
            'again, or let rotate_after_days do it; this collection never deletes or re-creates an integration by itself')


class SecretNotReadableError(ConfigurationError):
    """The site has no GetClientSecret (HTTP 404 after a good login, now or within the last day): a
    secret cannot be read back from it. ``evidence`` says what decided it. A ConfigurationError of
    recover_secret: what the declaration asks cannot be done on this site, and the way out is in the
    declaration (rotation); like one, it fails its integration only, not the rest of a batch."""

    def __init__(self, name, client_id, evidence, call=None):
        ConfigurationError.__init__(
            self, 'the client secret of integration %r (client id %s) cannot be read back from this site: it has no %s '
            '(%s; Creatio 8.1 has it, later versions may not)' % (name, client_id, api.READ_BACK_METHOD, evidence),
            option='recover_secret', hint=ROTATION)
        self.call = call or api.READ_BACK_METHOD
        self.status = api.METHOD_ABSENT_STATUS if call else None
        self.evidence = evidence


def site_has_read_back(run, fresh_only=True):
    """(True, evidence) where the site has GetClientSecret, (False, evidence) where it has not, (None, None)
    when nothing says so yet (a False fact older than a day counts as unknown with ``fresh_only``)."""
    return run.facts.kept_fact(FACT, fresh_only=fresh_only)


def read_back_secret(run, name, record):
    """The client secret of ``record`` (an integration Creatio has, read by the lookup in this run: its
    ``app_id``, the OAuthClientApp Id, is what GetClientSecret takes), read back from Creatio. The
    secret joins the run's scrub list (the client's secrets) the moment it is read; callers never put
    it in a result, log, warning, error or the cache.

    Raises SecretNotReadableError when the site has no GetClientSecret (a 404 after a good login: kept
    as a site fact for a day, so the next run does not ask), and Creatio's refusal as it is (BusinessError,
    RecordNotFoundError when the integration is gone, HttpError: the call, the status, Creatio's message)."""
    known, evidence = site_has_read_back(run)
    if known is False:
        raise SecretNotReadableError(name, record.client_id, 'the facts cache: %s' % evidence)
    if not record.app_id:
        raise ConfigurationError('the client secret of integration %r cannot be read back: it was not read from Creatio in '
                                 'this run (the facts cache answered), so the Id %s takes is unknown' % (name, api.READ_BACK_METHOD),
                                 option='verify', hint='run with verify: true, as a user who can read OData OAuthClientApp')
    try:
        result = run.client.call(api.READ_BACK_METHOD, {'clientAppId': record.app_id})
    except HttpError as exc:
        # A 404 means "no such method" only once the API root is known (a wrong root answers 404 too).
        if exc.status != api.METHOD_ABSENT_STATUS or not run.client.platform:
            raise
        evidence = '%s answered HTTP %s after a good login' % (api.READ_BACK_METHOD, api.METHOD_ABSENT_STATUS)
        run.facts.learn_fact(FACT, False, evidence)
        raise SecretNotReadableError(name, record.client_id, evidence, call=api.READ_BACK_METHOD)
    secret = api.lower_keys(result).get('clientsecret')
    if isinstance(secret, TEXT_TYPES) and secret.strip():
        run.client.keep_secret(secret)
    run.facts.learn_fact(FACT, True, '%s answered with success' % api.READ_BACK_METHOD)
    if not isinstance(secret, TEXT_TYPES) or not secret.strip():
        raise UnreadableAnswerError('%s was answered with success but without a clientSecret' % api.READ_BACK_METHOD,
                                    call=api.READ_BACK_METHOD, status=200,
                                    hint='nothing was written; report this: the answer of %s is an API assumption of this '
                                         'collection' % api.READ_BACK_METHOD)
    return secret


def recover_missing_secret(run, name, record, save, destination, opted_in):
    """The entry point for a destination of client secrets (a secret file, a secret store) that lacks the
    secret of integration ``name``, which Creatio has (``record``, read from Creatio by this run's lookup,
    with its ``app_id`` and ``client_id``). The caller has made sure that the destination lacks it: no
    file (nor a partial or kept copy being settled), no entry in the store.

    - ``opted_in`` false (recover_secret: false, the default: reading a secret back is a deliberate act):
      nothing is asked; a warning names the destination and the way out (recover_secret, or rotation where
      the site is known to have no GetClientSecret). Returns None.
    - Check mode: nothing is sent; returns the operation a real run would report (a warning says so when the
      site is known to have no GetClientSecret, and None is returned).
    - Otherwise: GetClientSecret is called once, and ``save(document)`` is called with the document a new
      integration's secret file holds ({'name', 'client_id', 'client_secret', 'token_url'}); it must write it
      whole or not at all, and raise a CreatioError when it cannot (its message must not quote the document).
      Returns the operation {'call': 'GetClientSecret', 'summary', 'request': {'clientAppId'}} to add to the
      result's operations (changed: true; no write to Creatio). Where the site has no GetClientSecret it raises
      SecretNotReadableError naming rotation; Creatio's refusals are raised as they are (read_back_secret).

    ``destination``: how the destination is named to the user (e.g. "client_secret_file /path"). Never
    deletes or re-creates anything; the secret appears in no return value, warning or error."""
    client_id = record.client_id
    if not opted_in:
        known, evidence = site_has_read_back(run, fresh_only=False)
        if known is False:
            run.warn('%s is missing: the client secret of integration %r (client id %s) is not there, and it cannot be read '
                     'back from this site (no %s: %s); %s' % (destination, name, client_id, api.READ_BACK_METHOD, evidence, ROTATION))
        else:
            run.warn('%s is missing: the client secret of integration %r (client id %s) is not there. Set recover_secret: '
                     'true to read it back from Creatio (%s, Creatio 8.1; later versions may not have it) and write it '
                     'there; or rotate it: %s' % (destination, name, client_id, api.READ_BACK_METHOD, ROTATION))
        return None
    operation = {'call': api.READ_BACK_METHOD,
                 'summary': '%sread back the client secret of integration %s (client id %s) and write it to %s'
                            % ('would ' if run.check_mode else '', name, client_id, destination),
                 'request': {'clientAppId': record.app_id}}
    if run.check_mode:
        known, evidence = site_has_read_back(run, fresh_only=False)
        if known is False:
            run.warn('%s is missing, and a real run fails: the client secret of integration %r (client id %s) cannot be '
                     'read back from this site (no %s: %s); %s' % (destination, name, client_id, api.READ_BACK_METHOD, evidence, ROTATION))
            return None
        return operation
    secret = read_back_secret(run, name, record)
    save({'name': name, 'client_id': client_id, 'client_secret': secret, 'token_url': run.client.token_url()})
    return operation


def recover_secret_file(run, name, record, path, opted_in):
    """[the GetClientSecret operation] when the secret file ``path`` of integration ``name``, which Creatio
    has (``record``), is missing and its secret was (check mode: would be) read back into it
    (recover_missing_secret, written by write_secret_file); [] otherwise. The caller calls it for an
    integration it neither creates nor deletes, after settling partial and kept copies (and not when one
    was settled)."""
    if not path or record is None or not record.exists or not record.client_id or os.path.lexists(path):
        return []
    if secret_file.partial_files(path) or (run.cache is not None and secret_file.kept_secret_files(
            secret_file.kept_folder(run.cache.path), run.site, name)):
        return []  # a copy of the secret is there (a run writing it now, or one left for the next run to settle)

    def save(document):
        warning = secret_file.open_folder_warning(path)
        if warning:
            run.warn(warning)
        try:
            secret_file.write_secret_file(path, document)
        except CreatioError as exc:  # its hint speaks of a new integration's one copy: this secret stays in Creatio
            raise CreatioError(exc.message, call=api.READ_BACK_METHOD,
                               hint='nothing was created or changed in Creatio, which still holds the secret: fix the folder '
                                    'of %s, then re-run to read it back again' % path)
    done = recover_missing_secret(run, name, record, save, 'client_secret_file %s' % path, opted_in)
    return [done] if done else []


def probe(run):
    """The site check's read-only probe: GetClientSecret with an Id no integration has. Returns (True, detail)
    where the method exists ("Record with specified Id does not exist", or any answer of Creatio's that is not a
    404), (False, detail) where it answers 404 after a good login, (None, detail) when that cannot be told."""
    made_up = str(uuid.uuid4())
    try:
        run.client.call(api.READ_BACK_METHOD, {'clientAppId': made_up})
        detail = 'answered with success for a made-up Id (unexpected, but the method exists)'
    except BusinessError as exc:  # RecordNotFoundError among them: the method ran and found no such integration
        detail = 'answered %r for a made-up Id (success: false): the method exists' % exc.creatio_message
    except HttpError as exc:
        if exc.status != api.METHOD_ABSENT_STATUS or not run.client.platform:
            return None, run.scrub(exc).full_message()
        detail = '%s answered HTTP %s after a good login' % (api.READ_BACK_METHOD, exc.status)
        run.facts.learn_fact(FACT, False, detail)
        return False, detail + ': the method does not exist here (ASSUMED: what a site answers for a method it lacks)'
    except CreatioError as exc:
        return None, run.scrub(exc).full_message()
    run.facts.learn_fact(FACT, True, '%s answered a made-up Id' % api.READ_BACK_METHOD)
    return True, detail
