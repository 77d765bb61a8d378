// Interop bank: Node's certified `openid-client` (v6), unchanged, runs the FAPI 2.0 bank flow
// against eidp — discovery; a signed request object (JAR) pushed with PAR under
// private_key_jwt and a DPoP proof; the person signs in (scripted browser: SMS step-up, the
// face step when asked); the code exchange with DPoP (the library answers use_dpop_nonce
// itself); UserInfo and the KYC identity assertion with DPoP; a bound refresh.
// Input: EIDP_ISSUER EIDP_CLIENT_ID EIDP_CLIENT_KEY (PKCS#8, base64) EIDP_CLIENT_KID EIDP_REDIRECT_URI
//        EIDP_ID_NUMBER EIDP_PASSWORD EIDP_SMS_OUTBOX [EIDP_FACE_IMAGE]
// Output: one JSON line on stdout, exit 0.
import * as client from 'openid-client';
import { browse, describe, env, step } from './browser.mjs';

async function main() {
  const issuer = env('EIDP_ISSUER');
  const clientId = env('EIDP_CLIENT_ID');
  const pkcs8 = Buffer.from(env('EIDP_CLIENT_KEY'), 'base64');
  const redirectUri = env('EIDP_REDIRECT_URI');
  const who = {
    idNumber: env('EIDP_ID_NUMBER'),
    password: env('EIDP_PASSWORD'),
    smsOutbox: env('EIDP_SMS_OUTBOX'),
    faceImage: process.env.EIDP_FACE_IMAGE,
  };
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const privateKey = { key, kid: env('EIDP_CLIENT_KID') };

  const config = await step('discovery', () => client.discovery(
    new URL(issuer), clientId,
    { id_token_signed_response_alg: 'ES256' },
    client.PrivateKeyJwt(privateKey),
    { execute: [client.allowInsecureRequests], timeout: 10 },
  ));
  const meta = config.serverMetadata();
  if (!meta.pushed_authorization_request_endpoint) throw new Error('discovery: no PAR endpoint');
  if (!meta.dpop_signing_alg_values_supported?.includes('ES256')) throw new Error('discovery: no DPoP ES256');

  const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const { searchParams } = await step('request object (JAR)', () => client.buildAuthorizationUrlWithJAR(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile eid kyc offline_access',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    acr_values: 'urn:vn:eid:loa:3',
  }, privateKey));
  const authUrl = await step('pushed authorization request', () =>
    client.buildAuthorizationUrlWithPAR(config, searchParams, { DPoP }));

  const callback = await step('browser sign-in/consent', () => browse(authUrl, redirectUri, who));
  const tokens = await step('code exchange (DPoP)', () => client.authorizationCodeGrant(
    config, callback,
    { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
    undefined, { DPoP },
  ));
  if (tokens.token_type?.toLowerCase() !== 'dpop') throw new Error(`token_type ${tokens.token_type}, not DPoP`);
  const claims = tokens.claims();

  const info = await step('userinfo (DPoP)', () => client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP }));
  if (info.sub !== claims.sub) throw new Error(`userinfo sub ${info.sub} != ${claims.sub}`);

  // Below loa:3 the API answers with a DPoP challenge, which the library raises.
  const kyc = await client.fetchProtectedResource(
    config, tokens.access_token, new URL('/api/kyc/v1/identity', issuer), 'GET', undefined, undefined, { DPoP },
  ).then(async (r) => ({ status: r.status, body: await r.text(), challenge: null }), (e) => {
    if (claims.acr === 'urn:vn:eid:loa:3' || e.status !== 403) throw new Error(`KYC assertion failed: ${describe(e)}`);
    return { status: e.status, body: null, challenge: e.cause?.[0]?.parameters?.error ?? describe(e) };
  });

  const refreshed = await step('refresh (DPoP-bound)', () => client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP }));
  if (!refreshed.access_token) throw new Error('refresh: no access token');

  process.stdout.write(JSON.stringify({
    library: 'openid-client', sub: claims.sub, acr: claims.acr, amr: claims.amr,
    kyc_status: kyc.status, kyc: kyc.body, challenge: kyc.challenge,
  }) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`eidp interop bank (openid-client): ${describe(err)}\n`);
  process.exit(1);
});
