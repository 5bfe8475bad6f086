// A real OpenID provider for the tests: npm `oidc-provider` (panva, OpenID Certified) on
// loopback, with its development login pages (any login name, no password).
//
//   node tests/oidc/op.mjs --redirect http://127.0.0.1:PORT/auth/sso/callback \
//        [--groups '{"alice": ["platform-team"]}'] [--userinfo-groups]
//
// prints one line of JSON, {"issuer": "http://127.0.0.1:PORT"}, and serves until stdin closes
// or it is killed. `--userinfo-groups` keeps the groups out of the ID token (as GitLab does),
// so the relying party must read them from userinfo.
//
// For the tests of what a relying party must refuse, `POST /__test/mode?m=MODE` makes the next
// token response carry a tampered ID token: `wrong-nonce`, `expired` (both signed with the
// provider's own key) or `foreign` (signed with a key the provider never published).
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

export async function startOp({ redirectUris, groups = {}, userinfoGroups = false, port = 0 }) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'op-key', alg: 'RS256', use: 'sig' };
  const { privateKey: foreign } = await jose.generateKeyPair('RS256', { extractable: true });

  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'tollgate',
      client_secret: 'tollgate-test-secret',
      redirect_uris: redirectUris,
      post_logout_redirect_uris: redirectUris.map((u) => `${new URL(u).origin}/`),
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    conformIdTokenClaims: userinfoGroups,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            preferred_username: id,
            name: id,
            email: `${id}@example.test`,
            email_verified: true,
            groups: groups[id] ?? [],
          };
        },
      };
    },
  });

  let mode = 'none';
  provider.use(async (ctx, next) => {
    if (ctx.path === '/__test/mode' && ctx.method === 'POST') {
      mode = ctx.query.m ?? 'none';
      ctx.status = 204;
      return;
    }
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && mode !== 'none' && ctx.body?.id_token) {
      const claims = jose.decodeJwt(ctx.body.id_token);
      const now = Math.floor(Date.now() / 1000);
      if (mode === 'wrong-nonce') claims.nonce = 'not-the-nonce-you-sent';
      if (mode === 'expired') {
        claims.iat = now - 7200;
        claims.exp = now - 3600;
      }
      const key = mode === 'foreign' ? foreign : privateKey;
      ctx.body = {
        ...ctx.body,
        id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'op-key' }).sign(key),
      };
      mode = 'none';
    }
  });
  server.on('request', provider.callback());
  return {
    issuer,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const redirectUris = [];
  let groups = {};
  let userinfoGroups = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--redirect') redirectUris.push(args[++i]);
    else if (args[i] === '--groups') groups = JSON.parse(args[++i]);
    else if (args[i] === '--userinfo-groups') userinfoGroups = true;
  }
  // oidc-provider warns about development interactions and its in-memory store: expected here.
  process.env.NODE_ENV = process.env.NODE_ENV ?? 'test';
  const op = await startOp({ redirectUris, groups, userinfoGroups });
  process.stdout.write(`${JSON.stringify({ issuer: op.issuer })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
