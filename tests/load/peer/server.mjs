// Peer OpenID provider for eidp's side-by-side load tests: panva's `oidc-provider`
// (the OpenID Certified reference implementation), configured like eidp.
//
// Env (all required except REFRESH_COUNT, which defaults to 0):
//   PEER_PORT      listen on 127.0.0.1:PEER_PORT; issuer is http://127.0.0.1:PEER_PORT
//   CLIENT_ID      the one confidential client (client_secret_basic)
//   CLIENT_SECRET
//   REDIRECT_URI
//   REFRESH_COUNT  live refresh tokens to pre-create (one Grant each)
//   OUT_DIR        gets peer-refresh-tokens.txt (one a line) and peer-access-token.txt
//
// Prints exactly `peer ready` on stdout once the files are written and the server listens.
// Everything else (oidc-provider's notices and warnings, errors) goes to stderr; exit 1 on failure.

import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

// oidc-provider prints NOTICEs with console.info (stdout); keep stdout for `peer ready` only.
const toStderr = (...args) => console.error(...args);
console.info = toStderr;
console.log = toStderr;

function fail(err) {
  console.error('peer: fatal:', err?.stack || err);
  process.exit(1);
}
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);

function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`missing env ${name}`);
  }
  return v;
}

const PORT = Number.parseInt(env('PEER_PORT'), 10);
const CLIENT_ID = env('CLIENT_ID');
const CLIENT_SECRET = env('CLIENT_SECRET');
const REDIRECT_URI = env('REDIRECT_URI');
const REFRESH_COUNT = Number.parseInt(env('REFRESH_COUNT', '0'), 10);
const OUT_DIR = env('OUT_DIR');
if (!Number.isInteger(PORT) || PORT <= 0 || PORT > 65535) throw new Error('PEER_PORT must be a port number');
if (!Number.isInteger(REFRESH_COUNT) || REFRESH_COUNT < 0) throw new Error('REFRESH_COUNT must be an integer >= 0');

const ISSUER = `http://127.0.0.1:${PORT}`;
const RESOURCE = 'urn:eidp:bench';
const ACCOUNT_ID = 'bench-user';
const SCOPE = 'openid profile offline_access';
// Same lifetimes as eidp's defaults (src/config.rs): access 600 s, ID token 600 s, refresh 30 d.
const ACCESS_TTL = 600;
const ID_TOKEN_TTL = 600;
const REFRESH_TTL = 30 * 24 * 3600;
// The pre-made userinfo/introspection token must outlive a long harness run.
const BENCH_ACCESS_TTL = 24 * 3600;

const { default: Provider, errors } = await import('oidc-provider');

// ---- storage ---------------------------------------------------------------------------
// oidc-provider's built-in memory adapter is an LRU capped at 1000 entries: pre-created
// refresh tokens (and their grants) would be evicted long before the benchmark reached
// them. This is the same contract on plain Maps, never evicting, expiring lazily on read.
const store = new Map(); // `${Model}:${id}` -> { v: payload, exp: ms epoch | undefined }
const grantMembers = new Map(); // grantId -> Set of store keys
const sessionUids = new Map();
const userCodes = new Map();
const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

function read(key) {
  const e = store.get(key);
  if (!e) return undefined;
  if (e.exp !== undefined && e.exp <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return e.v;
}

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    store.set(key, { v: payload, exp });
    if (this.model === 'Session' && payload.uid) sessionUids.set(payload.uid, id);
    if (payload.userCode) userCodes.set(payload.userCode, id);
    if (grantable.has(this.model) && payload.grantId) {
      let members = grantMembers.get(payload.grantId);
      if (!members) grantMembers.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }

  async find(id) {
    return read(this.key(id));
  }

  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = read(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const key = this.key(id);
    const payload = read(key);
    store.delete(key);
    if (payload?.grantId) grantMembers.get(payload.grantId)?.delete(key);
    if (payload?.uid && sessionUids.get(payload.uid) === id) sessionUids.delete(payload.uid);
    if (payload?.userCode && userCodes.get(payload.userCode) === id) userCodes.delete(payload.userCode);
  }

  async revokeByGrantId(grantId) {
    const members = grantMembers.get(grantId);
    if (!members) return;
    for (const key of members) store.delete(key);
    grantMembers.delete(grantId);
  }
}

// ---- keys ------------------------------------------------------------------------------
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = privateKey.export({ format: 'jwk' });
// RFC 7638 thumbprint as kid.
jwk.kid = createHash('sha256')
  .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
  .digest('base64url');
jwk.alg = 'ES256';
jwk.use = 'sig';

// ---- account ---------------------------------------------------------------------------
const CLAIMS = {
  sub: ACCOUNT_ID,
  name: 'Bench User',
  birthdate: '1990-01-01',
  gender: 'female',
};

async function findAccount(_ctx, sub) {
  if (sub !== ACCOUNT_ID) return undefined;
  return {
    accountId: ACCOUNT_ID,
    async claims() {
      return { ...CLAIMS };
    },
  };
}

// ---- provider --------------------------------------------------------------------------
const configuration = {
  adapter: MapAdapter,
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    scope: SCOPE,
    require_auth_time: true, // eidp's ID tokens always carry auth_time
  }],
  clientDefaults: {
    grant_types: ['authorization_code'],
    id_token_signed_response_alg: 'ES256',
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  jwks: { keys: [jwk] },
  enabledJWA: {
    idTokenSigningAlgValues: ['ES256'],
    userinfoSigningAlgValues: ['ES256'],
    introspectionSigningAlgValues: ['ES256'],
    authorizationSigningAlgValues: ['ES256'],
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  findAccount,
  // Discovery as close to eidp's as the library allows: code flow only, eidp's auth methods.
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
  scopes: ['openid', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'birthdate', 'gender'],
  },
  features: {
    devInteractions: { enabled: true }, // not benchmarked
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    // JWT (ES256) access tokens come from a Resource Server; every token request that does
    // not name one gets RESOURCE, and refresh keeps the resource of the grant.
    resourceIndicators: {
      enabled: true,
      defaultResource(_ctx, _client, oneOf) {
        if (Array.isArray(oneOf)) return oneOf.length === 1 ? oneOf[0] : oneOf;
        return oneOf ?? RESOURCE;
      },
      useGrantedResource() {
        return true;
      },
      getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        // The whole grant scope, so JWT access tokens (and token responses) carry the same
        // `scope` as eidp's: "openid profile offline_access".
        return {
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: ACCESS_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: ACCESS_TTL,
    AuthorizationCode: 60,
    ClientCredentials: ACCESS_TTL,
    Grant: REFRESH_TTL,
    IdToken: ID_TOKEN_TTL,
    Interaction: 3600,
    RefreshToken: REFRESH_TTL,
    Session: 14 * 24 * 3600,
  },
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (_ctx, err) => console.error('peer: server_error:', err?.stack || err));

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 65_000;
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, '127.0.0.1', resolve);
});

// ---- seeding ---------------------------------------------------------------------------
const authTime = Math.floor(Date.now() / 1000);

async function newGrant() {
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: CLIENT_ID });
  grant.addOIDCScope(SCOPE);
  grant.addResourceScope(RESOURCE, SCOPE);
  return grant.save();
}

const started = process.hrtime.bigint();
const refreshTokens = new Array(REFRESH_COUNT);
for (let i = 0; i < REFRESH_COUNT; i += 1) {
  const grantId = await newGrant();
  const rt = new provider.RefreshToken({
    accountId: ACCOUNT_ID,
    clientId: CLIENT_ID,
    grantId,
    scope: SCOPE,
    resource: RESOURCE,
    gty: 'authorization_code',
    authTime,
    // What the authorization endpoint records for a require_auth_time client; without it
    // ID tokens from refresh would leave auth_time out.
    claims: { id_token: { auth_time: { essential: true } } },
    expiresWithSession: false,
    rotations: 0,
  });
  refreshTokens[i] = await rt.save();
}

// userinfo only takes access tokens without an audience that it can look up in storage,
// i.e. opaque ones (JWT access tokens are never stored); introspection likewise.
const at = new provider.AccessToken({
  accountId: ACCOUNT_ID,
  clientId: CLIENT_ID,
  grantId: await newGrant(),
  scope: SCOPE,
  gty: 'authorization_code',
  expiresWithSession: false,
  expiresIn: BENCH_ACCESS_TTL,
});
const accessToken = await at.save();
const seedMs = Number(process.hrtime.bigint() - started) / 1e6;

mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(
  path.join(OUT_DIR, 'peer-refresh-tokens.txt'),
  REFRESH_COUNT ? `${refreshTokens.join('\n')}\n` : '',
);
writeFileSync(path.join(OUT_DIR, 'peer-access-token.txt'), `${accessToken}\n`);

console.error(`peer: ${ISSUER} seeded ${REFRESH_COUNT} refresh tokens in ${seedMs.toFixed(0)} ms`);
process.stdout.write('peer ready\n');

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
