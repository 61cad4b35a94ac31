"""SAML 2.0 connections: an organisation's SAML IdP (Entra ID, Okta, Google Workspace, AD FS, Keycloak…).

pysaml2 does the protocol and, through Debian's ``xmlsec1`` program, the XML signatures and encryption; this package
adds the per-connection configuration, our stricter policy on top (``policy``), the one-time store for replays
(``replay``) and the mapping of attributes to claims. The rules about *who* may be signed in are the ones every
connection type shares, in ``jeto_identity.sso.services``.
"""
