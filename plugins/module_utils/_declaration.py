# -*- coding: utf-8 -*-
# Copyright: creatio.oauth contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Internal to creatio.oauth (not a public API): what a task declares, as typed values made once.

A ``Declaration`` is one integration as the user declared it, validated and normalised once
(``_integrations.declare``); everything after that reads its attributes and trusts them (a redirect
URI in it is never validated again). It is immutable: a variant (a secret file from secrets_dir,
the Id of a system user found by name, a plan without redirect URIs) is made with ``replace``.
``Options`` are the task's options that every integration of the task shares (made once in the
service's entry point). ``RedirectRequest`` is the declaration of creatio_redirect_url.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class _Value(object):
    """A value of named attributes, set once: ``replace(**changes)`` gives a changed copy."""

    FIELDS = ()
    DEFAULTS = {}
    __slots__ = ()

    def __init__(self, **values):
        unknown = sorted(set(values) - set(self.FIELDS))
        if unknown:
            raise TypeError('%s has no %s' % (type(self).__name__, ', '.join(unknown)))
        for key in self.FIELDS:
            value = values.get(key, self.DEFAULTS.get(key))
            object.__setattr__(self, key, list(value) if isinstance(value, (list, tuple)) else value)

    def __setattr__(self, key, value):
        raise AttributeError('%s is made once: use replace(%s=...)' % (type(self).__name__, key))

    def replace(self, **changes):
        values = dict((key, getattr(self, key)) for key in self.FIELDS)
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other):
        return type(other) is type(self) and all(getattr(self, k) == getattr(other, k) for k in self.FIELDS)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return '%s(%s)' % (type(self).__name__, ', '.join('%s=%r' % (k, getattr(self, k)) for k in self.FIELDS))


class Declaration(_Value):
    """One declared integration (the options of creatio_oauth_client, or one item of creatio_oauth_clients).

    ``redirect_urls``: None when not declared (left alone), else the normalised URIs, duplicates dropped.
    ``system_user_id``: given, or found by the name in ``system_user`` (``_users.resolve``).
    ``rotation_grace_hours``: the item's, else the task's, else the default (``_rotation``).
    ``keep_stale_secret_file``: the secret file comes from secrets_dir; a file of an integration deleted
    since is kept aside rather than refused.
    """

    FIELDS = ('name', 'state', 'grant_type', 'application_url', 'system_user_id', 'system_user', 'create_system_user',
              'redirect_urls', 'purge_redirect_urls', 'active', 'client_id', 'client_secret_file',
              'add_unconfirmed_redirect_urls', 'create_when_unreadable', 'recover_secret',
              'rotate_after_days', 'rotation_grace_hours', 'rotate_authorization_code', 'keep_stale_secret_file')
    DEFAULTS = {'state': 'present', 'create_system_user': False, 'purge_redirect_urls': True,
                'add_unconfirmed_redirect_urls': False, 'create_when_unreadable': False, 'recover_secret': False,
                'rotate_authorization_code': False, 'keep_stale_secret_file': False}
    __slots__ = FIELDS

    @property
    def present(self):
        return self.state == 'present'

    @property
    def absent(self):
        return self.state == 'absent'


class Options(_Value):
    """The task's options that every integration of it shares. ``verify``: read Creatio even where the facts
    cache knows the integration."""

    FIELDS = ('verify',)
    DEFAULTS = {'verify': True}
    __slots__ = FIELDS

    @classmethod
    def from_params(cls, params):
        return cls(verify=params.get('verify', True) is not False)


class RedirectRequest(_Value):
    """What one creatio_redirect_url task declares (``_redirect_urls.declare``): the integration (by name or
    client id), the URIs by value (``urls``) or one by id (``url_id``, ``url``), and how."""

    FIELDS = ('client_name', 'client_id', 'absent', 'purge', 'url_id', 'url', 'urls', 'add_unconfirmed_redirect_urls',
              'verify')
    DEFAULTS = {'absent': False, 'purge': False, 'add_unconfirmed_redirect_urls': False, 'verify': True}
    __slots__ = FIELDS
