// Browser test of the GitHub flavour: Tollgate follows a repo on the Git host emulator
// (`githost-emulator`: GitHub's REST API over a real bare repo, signed webhooks). Propose in the
// form, see the pull request's link and number, approve in the host through its REST API, see
// the approval appear live (webhook → event stream), merge. Real headless Chromium.
//
//   TOLLGATE_BIN=... GITHOST_BIN=... node tests/browser/github-flow.mjs

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launch, output } from './harness.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const seed = path.resolve(here, '../../server/seed');
const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-github-'));
const secret = 'browser-test-webhook-secret';

const bin = process.env.GITHOST_BIN;
if (!bin) throw new Error('GITHOST_BIN must point at the githost-emulator binary');
const emulator = spawn(bin, ['--listen', '127.0.0.1:0', '--data', path.join(dir, 'host'),
  '--user', 'tollgate-bot:bot-token', '--user', 'bob:bob-token', '--fixture', seed, '--repo', 'acme/config'],
{ stdio: ['ignore', 'pipe', 'inherit'] });
const host = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('githost-emulator did not start')), 20_000);
  let buffer = '';
  emulator.stdout.on('data', (c) => {
    buffer += c;
    const m = buffer.match(/serving at (http:\/\/[0-9.:]+)/);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  emulator.on('exit', (code) => reject(new Error(`githost-emulator exited with ${code}`)));
});
const control = async (method, route, body) => {
  const r = await fetch(`${host}/_emulator${route}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${route}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

const config = path.join(dir, 'tollgate.toml');
writeFileSync(config, `[host]\nkind = "github"\napi_url = "${host}/api/v3"\nrepo = "acme/config"\ntoken = "bot-token"\nwebhook_secret = "${secret}"\npoll_interval_secs = 60\n`);
const { base, stop } = await startServer(['--config', config]);
await control('POST', '/webhooks', { flavour: 'github', url: `${base}/api/v1/hooks/github`, secret });

let browser;
try {
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Continue as alice' }).click();
  await page.waitForSelector('.who .user');

  // Propose in the form.
  await page.goto(`${base}/apis/payments/refunds/edit`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.waitForSelector('#spec-proxy-target_url');
  await page.locator('#spec-proxy-target_url').fill('http://refunds-v2.payments.svc:8080');
  await page.waitForSelector('#spec-proxy-target_url[aria-invalid="false"]');
  await page.locator('#preview').click();
  await page.waitForSelector('#preview-panel table.diff');
  await page.locator('#change-title').fill('Move refunds to v2');
  await page.locator('#propose').click();
  await page.waitForURL(/\/changes\/\d+$/, { timeout: 15_000 });
  await page.waitForSelector('#host-link');
  const changeUrl = page.url();

  // The pull request's link and number, as the host has it.
  const pulls = (await control('GET', '/repo?name=acme/config')).pulls;
  assert.equal(pulls.length, 1, 'one pull request');
  const number = pulls[0].number;
  const link = await page.locator('#host-link');
  assert.match(await link.textContent(), new RegExp(`Pull request #${number} on GitHub`));
  assert.equal(await link.getAttribute('href'), `${host}/acme/config/pull/${number}`);
  assert.equal(await page.locator('#host-state').textContent(), 'open');
  await page.screenshot({ path: path.join(output, 'github-pull-request.png'), fullPage: true });

  // Bob approves in the host; the page shows it without a reload.
  await page.evaluate(() => { window.__noReload = true; });
  const review = await fetch(`${host}/api/v3/repos/acme/config/pulls/${number}/reviews`, {
    method: 'POST',
    headers: { authorization: 'Bearer bob-token', accept: 'application/vnd.github+json', 'content-type': 'application/json' },
    body: JSON.stringify({ event: 'APPROVE', body: 'LGTM' }),
  });
  assert.equal(review.status, 200, await review.text());
  const started = Date.now();
  await page.waitForFunction(() => document.querySelector('#host-reviews')?.textContent.includes('bob'), null, { timeout: 5_000 });
  const latency = Date.now() - started;
  assert.equal(await page.evaluate(() => window.__noReload), true, 'updated live, not reloaded');
  await page.screenshot({ path: path.join(output, 'github-approved.png'), fullPage: true });

  // Merge through Tollgate, as bob.
  const bobPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await bobPage.goto(`${base}/login`);
  await bobPage.getByRole('button', { name: 'Continue as bob' }).click();
  await bobPage.waitForSelector('.who .user');
  await bobPage.goto(changeUrl);
  await bobPage.waitForSelector('body[data-hydrated="true"]');
  await bobPage.waitForFunction(() => !document.querySelector('#merge')?.disabled, null, { timeout: 10_000 });
  await bobPage.locator('#merge').click();
  await bobPage.waitForFunction(() => document.querySelector('#change-state')?.textContent === 'merged', null, { timeout: 15_000 });
  const after = await control('GET', '/repo?name=acme/config');
  assert.equal(after.pulls[0].merged, true, 'merged in the host');
  // The author's open page follows the merge live.
  await page.waitForFunction(() => document.querySelector('#change-state')?.textContent === 'merged', null, { timeout: 5_000 });
  assert.deepEqual(errors, []);
  console.log(`github flow: pull request #${number}, approval shown ${latency} ms after the review`);
} finally {
  await browser?.close();
  stop();
  emulator.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
