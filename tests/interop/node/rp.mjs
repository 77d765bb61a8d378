// Interop relying party: drives a full OpenID Connect authorization-code flow
// against a running eidp with Node's certified `openid-client` (v6), unchanged.
//
// What it proves, each check done by the library itself unless noted:
//  - discovery (/.well-known/openid-configuration) is accepted, issuer matches;
//  - an authorization request with PKCE S256, state and nonce is accepted, and a
//    scripted "browser" (cookie jar, manual redirects, generic HTML form posting)
//    gets through login + consent to the registered redirect_uri;
//  - the callback passes state and RFC 9207 `iss` checks, the code exchange works
//    with client_secret_basic + PKCE, and the ID token verifies (ES256 via JWKS,
//    iss, aud, nonce, exp, iat);
//  - userinfo returns the ID token's `sub`;
//  - refresh_token grant returns a new access token and a rotated refresh token;
//  - RFC 7009 revocation of the new refresh token works (script check: it can no
//    longer be used).
// Input: EIDP_ISSUER EIDP_CLIENT_ID EIDP_CLIENT_SECRET EIDP_REDIRECT_URI
//        EIDP_ID_NUMBER EIDP_PASSWORD. Output: one JSON line on stdout, exit 0.
import * as client from 'openid-client';
import { browse, describe, env, step } from './browser.mjs';

// --- the relying party -------------------------------------------------------
async function main() {
  const issuer = env('EIDP_ISSUER');
  const clientId = env('EIDP_CLIENT_ID');
  const clientSecret = env('EIDP_CLIENT_SECRET');
  const redirectUri = env('EIDP_REDIRECT_URI');
  const idNumber = env('EIDP_ID_NUMBER');
  const password = env('EIDP_PASSWORD');

  const config = await step('discovery', () => client.discovery(
    new URL(issuer), clientId,
    { id_token_signed_response_alg: 'ES256' },
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests], timeout: 10 },
  ));
  const meta = config.serverMetadata();

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const callback = await step('browser login/consent', () => browse(authUrl, redirectUri, { idNumber, password }));
  if (meta.authorization_response_iss_parameter_supported !== true) {
    process.stderr.write('warning: discovery does not announce authorization_response_iss_parameter_supported=true; iss only checked if present\n');
  }

  const tokens = await step('callback/code exchange', () => client.authorizationCodeGrant(
    config, callback, { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
  ));
  const claims = tokens.claims();
  if (!claims?.sub) throw new Error('code exchange failed: no ID token claims');

  const userinfo = await step('userinfo', () => client.fetchUserInfo(config, tokens.access_token, claims.sub));
  if (userinfo.sub !== claims.sub) throw new Error(`userinfo failed: sub ${userinfo.sub} != ${claims.sub}`);

  if (!tokens.refresh_token) throw new Error('code exchange failed: no refresh_token issued');
  const refreshed = await step('refresh', () => client.refreshTokenGrant(config, tokens.refresh_token));
  if (!refreshed.access_token) throw new Error('refresh failed: no access_token');
  if (!refreshed.refresh_token || refreshed.refresh_token === tokens.refresh_token) {
    throw new Error('refresh failed: refresh token was not rotated');
  }

  if (!meta.revocation_endpoint) throw new Error('revocation failed: no revocation_endpoint in discovery');
  await step('revocation', () => client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' }));
  const reuse = await client.refreshTokenGrant(config, refreshed.refresh_token).then(() => null, (e) => e);
  if (!reuse) throw new Error('revocation failed: revoked refresh token still accepted');
  if (reuse.error !== 'invalid_grant') throw new Error(`revocation check failed: expected invalid_grant, got ${describe(reuse)}`);

  process.stdout.write(JSON.stringify({ library: 'openid-client', sub: claims.sub, id_token_claims: claims }) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`eidp interop (openid-client): ${err.message}\n`);
  process.exit(1);
});
