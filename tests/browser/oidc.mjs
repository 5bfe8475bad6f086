// Browser test: sign in through a real OpenID provider (npm `oidc-provider`, started here on
// loopback by tests/oidc/op.mjs), get a role from a group claim, write with the session's CSRF
// token, and sign out (with the provider's end-session link offered).
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/oidc.mjs

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startServer, launch, output } from './harness.mjs';
import { startOp } from '../oidc/op.mjs';

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const tollgate = `http://127.0.0.1:${port}`;
const op = await startOp({
  redirectUris: [`${tollgate}/auth/sso/callback`],
  groups: { olivia: ['team-payments', 'reviewers'] },
});
const config = path.join(mkdtempSync(path.join(tmpdir(), 'tollgate-oidc-')), 'tollgate.toml');
writeFileSync(config, `
[auth]
anonymous = "none"
[[auth.providers]]
name = "sso"
issuer = "${op.issuer}"
client_id = "tollgate"
client_secret = "tollgate-test-secret"
[[auth.roles]]
group = "reviewers"
role = "approver"
`);
const { base, stop } = await startServer(['--config', config], { TOLLGATE__SERVER__BIND: `127.0.0.1:${port}` });
let browser;
try {
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));

  // Not signed in and anonymous access off: a page sends us to sign in, and back afterwards.
  await page.goto(`${base}/changes`);
  await page.waitForURL(/\/login\?next=%2Fchanges|\/login\?next=\/changes/);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByRole('link', { name: 'Sign in with sso' }).click();
  // The provider's own development login and consent pages.
  await page.waitForURL(new RegExp(`^${op.issuer}/interaction/`));
  await page.locator('input[name="login"]').fill('olivia');
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(new RegExp(`^${op.issuer}/interaction/`));
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(`${base}/changes`);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await page.locator('.who .user').textContent(), 'olivia');
  assert.equal(await page.locator('.who .user').getAttribute('title'), 'Signed in (approver)', 'the role comes from the reviewers group');
  await page.screenshot({ path: path.join(output, 'oidc-signed-in.png'), fullPage: true });

  // A write from the page carries the CSRF token: comment on a change made through the API.
  const session = await (await page.request.get(`${base}/api/v1/session`)).json();
  assert.deepEqual([session.role, session.groups], ['approver', ['team-payments', 'reviewers']]);
  const created = await page.request.post(`${base}/api/v1/changes`, {
    headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
    data: { title: 'From the OIDC test', edits: [{ kind: 'ApiDefinition', namespace: 'payments', name: 'payments-api', merge_patch: { spec: { proxy: { target_url: 'http://oidc:1' } } } }] },
  });
  assert.equal(created.status(), 201, await created.text());
  const id = (await created.json()).id;
  const refused = await page.request.post(`${base}/api/v1/changes/${id}/comments`, {
    headers: { 'content-type': 'application/json' }, data: { body: 'no token' },
  });
  assert.equal(refused.status(), 403, 'a write without the token is refused');
  await page.goto(`${base}/changes/${id}`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.locator('#comment-body').fill('Signed in through the provider');
  await page.getByRole('button', { name: 'Comment' }).click();
  await page.waitForFunction(() => document.querySelector('.events')?.textContent.includes('Signed in through the provider'), null, { timeout: 10_000 });

  // Sign out: the session ends, and the provider's end-session URL is offered.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('#end-session');
  assert.match(await page.locator('#end-session').getAttribute('href'), new RegExp(`^${op.issuer}/session/end`));
  const after = await (await page.request.get(`${base}/api/v1/session`)).json();
  assert.equal(after.user, null);
  await page.screenshot({ path: path.join(output, 'oidc-signed-out.png'), fullPage: true });
  assert.deepEqual(errors, []);
  console.log('OIDC sign-in browser test passed');
} finally {
  await browser?.close();
  stop();
  await op.close();
}
