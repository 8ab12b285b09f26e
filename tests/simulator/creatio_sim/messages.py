"""Every text the simulated site answers with, in English and German (switch ``language``).

The English texts of OAuthConfigService business errors are Creatio 8.1's own (contract section 3).
The German ones are this simulator's translations; like a real translated site they keep the parts
that Creatio never translates identical: setting names (``OAuth20IdentityServerUrl``,
``OAuth20IdentityServerClientId``, ``OAuth20IdentityServerClientSecret``,
``Feature-EnableOAuth20Integration``), operation codes (``CanManageSolution``), quoted URLs, member
names and quoted values.
"""

from __future__ import annotations

LANGUAGES = ('en', 'de')

# id -> (English, German); str.format placeholders are filled in by text().
CATALOGUE = {
    # forms login and session (AuthService.svc, the site's HTTP modules)
    'bad_login': ('Either user name or password is incorrect.',
                  'Benutzername oder Passwort ist falsch.'),
    'auth_failed': ('Authentication failed.',
                    'Authentifizierung fehlgeschlagen.'),
    'csrf': ('Invalid CSRF token.',
             'Ungültiges CSRF-Token.'),
    'force_use_session': ('The "ForceUseSession: true" header is required.',
                          'Der Header "ForceUseSession: true" ist erforderlich.'),
    'json_required': ('Content-Type must be application/json.',
                      'Content-Type muss application/json sein.'),
    'bad_json': ('The request body is not a valid JSON object.',
                 'Der Anfragetext ist kein gültiges JSON-Objekt.'),
    'method_not_allowed': ('Method not allowed.',
                           'Methode nicht zulässig.'),
    'endpoint_not_found': ('Endpoint not found.',
                           'Endpunkt nicht gefunden.'),
    'content_length': ('Content-Length is required.',
                       'Content-Length ist erforderlich.'),
    'bad_content_length': ('Bad Content-Length.',
                           'Ungültige Content-Length.'),
    # OAuthConfigService: request shape (HTTP 400)
    'wrapped': ('The request body must be a JSON object wrapped as {{"{param}": {{...}}}}.',
                'Der Anfragetext muss ein JSON-Objekt der Form {{"{param}": {{...}}}} sein.'),
    'member_string': ('Member "{key}" must be a string.',
                      'Das Element "{key}" muss eine Zeichenfolge sein.'),
    'member_bool': ('Member "{key}" must be a boolean.',
                    'Das Element "{key}" muss ein boolescher Wert sein.'),
    'member_strings': ('Member "{key}" must be an array of strings.',
                       'Das Element "{key}" muss ein Array von Zeichenfolgen sein.'),
    # OAuthConfigService: Creatio's own business texts (HTTP 200, success false)
    'no_record': ('Record with specified Id does not exist.',
                  'Der Datensatz mit der angegebenen Id ist nicht vorhanden.'),
    'bad_user': ('Specified system user is not valid.',
                 'Der angegebene Systembenutzer ist ungültig.'),
    'feature_off': ('To enable OAuth 2.0 set Feature-EnableOAuth20Integration = true in AppSettings section of '
                    'application config file',
                    'Um OAuth 2.0 zu aktivieren, setzen Sie Feature-EnableOAuth20Integration = true im Abschnitt '
                    'AppSettings der Konfigurationsdatei der Anwendung'),
    'identity_down': ('Unable to connect to OAuth server at "{url}" (system setting OAuth20IdentityServerUrl)',
                      'Es konnte keine Verbindung zum OAuth-Server unter "{url}" hergestellt werden '
                      '(Systemeinstellung OAuth20IdentityServerUrl)'),
    'identity_refuses': ('Unable to handle client application. Please check the values of the following system '
                         'settings: OAuth20IdentityServerClientId, OAuth20IdentityServerClientSecret.',
                         'Die Clientanwendung kann nicht verarbeitet werden. Bitte überprüfen Sie die Werte der '
                         'folgenden Systemeinstellungen: OAuth20IdentityServerClientId, '
                         'OAuth20IdentityServerClientSecret.'),
    'no_default_resource': ('Default resource does not exist',
                            'Die Standardressource ist nicht vorhanden'),
    'unexpected': ('Unexpected error: {text}',
                   'Unerwarteter Fehler: {text}'),
    # ASSUMED wording (contract: "the refusal names the operation code CanManageSolution")
    'no_rights': ('You do not have permission to perform the "CanManageSolution" operation.',
                  'Sie haben keine Berechtigung zum Ausführen der Operation "CanManageSolution".'),
    # inner texts of "Unexpected error: ..." (the simulator's own, ASSUMED)
    'required': ('Parameter "{key}" is required.',
                 'Der Parameter "{key}" ist erforderlich.'),
    'empty_values': ('Parameter "{key}" must not contain empty values.',
                     'Der Parameter "{key}" darf keine leeren Werte enthalten.'),
    'grant_unsupported': ('Grant type "{grant}" is not supported. Use "client_credentials" or "authorization_code".',
                          'Der Gewährungstyp "{grant}" wird nicht unterstützt. Verwenden Sie "client_credentials" '
                          'oder "authorization_code".'),
    'redirect_not_allowed': ('Redirect URL is not allowed for the "{grant}" grant type.',
                             'Eine Umleitungs-URL ist für den Gewährungstyp "{grant}" nicht zulässig.'),
    'redirects_not_allowed': ('Redirect URLs are not allowed for the "{grant}" grant type.',
                              'Umleitungs-URLs sind für den Gewährungstyp "{grant}" nicht zulässig.'),
    'user_not_allowed': ('System user is not allowed for the "{grant}" grant type.',
                         'Ein Systembenutzer ist für den Gewährungstyp "{grant}" nicht zulässig.'),
    'user_exists': ('A user with the name "{name}" already exists.',
                    'Ein Benutzer mit dem Namen "{name}" ist bereits vorhanden.'),
    # the Identity Service's authorization endpoint (IdentityServer's error page; the error codes do not translate)
    'authorize_unknown_client': ('Sorry, there was an error: unauthorized_client. Unknown client or client not enabled.',
                                 'Leider ist ein Fehler aufgetreten: unauthorized_client. Unbekannter Client oder '
                                 'Client nicht aktiviert.'),
    'authorize_bad_redirect': ('Sorry, there was an error: invalid_request. Invalid redirect_uri.',
                               'Leider ist ein Fehler aufgetreten: invalid_request. Ungültige redirect_uri.'),
    'authorize_bad_request': ('Sorry, there was an error: invalid_request.',
                              'Leider ist ein Fehler aufgetreten: invalid_request.'),
    # OData 4
    'odata_method': ('The requested resource does not support this HTTP method.',
                     'Die angeforderte Ressource unterstützt diese HTTP-Methode nicht.'),
    'odata_denied': ('Access to the {entity} entity is denied.',
                     'Der Zugriff auf das Objekt {entity} wurde verweigert.'),
    'odata_no_entity_set': ("No entity set named '{name}' exists in the OData service.",
                            "Im OData-Dienst ist keine Entitätsmenge namens '{name}' vorhanden."),
    'odata_query_option': ("The query parameter '{key}' is not supported or is repeated.",
                           "Der Abfrageparameter '{key}' wird nicht unterstützt oder ist wiederholt."),
    'odata_syntax': ("Syntax error at position {pos} in '{text}'.",
                     "Syntaxfehler an Position {pos} in '{text}'."),
    'odata_no_property': ("Could not find a property named '{name}' on type '{entity}'.",
                          "Auf dem Typ '{entity}' wurde keine Eigenschaft namens '{name}' gefunden."),
    'odata_secure': ("The property '{name}' of type '{entity}' is a secure text column and cannot be read.",
                     "Die Eigenschaft '{name}' des Typs '{entity}' ist eine Spalte mit geschütztem Text und "
                     "kann nicht gelesen werden."),
    'odata_types': ("A binary operator with incompatible types was detected. Found operand types '{left}' and "
                    "'{right}' for operator kind '{op}'.",
                    "Ein binärer Operator mit inkompatiblen Typen wurde erkannt. Gefundene Operandentypen '{left}' "
                    "und '{right}' für die Operatorart '{op}'."),
    'odata_value': ("Invalid value '{value}' for {key}.",
                    "Ungültiger Wert '{value}' für {key}."),
}


def text(language, message_id, **values):
    """The text ``message_id`` in ``language`` ('en' or 'de'), placeholders filled."""
    english_text, german = CATALOGUE[message_id]
    template = german if language == 'de' else english_text
    return template.format(**values)


def english(message_id, **values):
    """The English text (what the module-level MSG_* constants hold)."""
    return text('en', message_id, **values)
