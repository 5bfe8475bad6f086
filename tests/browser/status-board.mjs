// Browser test of the live status board: tollgate watches an emulated cluster (the
// `kube-emulator` binary); objects change in the cluster; the open board updates without a
// reload. Real headless Chromium; screenshots saved.
//
//   TOLLGATE_BIN=... EMULATOR_BIN=... node tests/browser/status-board.mjs

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, launch, output } from './harness.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
// The project's own CRD fixtures: the test needs nothing beside the checkout.
const crds = path.resolve(here, '../fixtures/crds/tyk-operator.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-board-'));
const kubeconfig = path.join(dir, 'staging.kubeconfig');

const emulator = spawn(process.env.EMULATOR_BIN, ['--listen', '127.0.0.1:0', '--kubeconfig', kubeconfig, '--context', 'staging', crds], { stdio: ['ignore', 'pipe', 'inherit'] });
const emu = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('emulator did not start')), 20_000);
  let buffer = '';
  emulator.stdout.on('data', (c) => {
    buffer += c;
    const m = buffer.match(/at (http:\/\/[0-9.:]+)/);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  emulator.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
});
const config = path.join(dir, 'tollgate.toml');
writeFileSync(config, `[environments.main]\npath = ""\nbranch = "main"\n\n[[clusters]]\nname = "staging"\nkubeconfig = "${kubeconfig}"\nenvironment = "main"\n`);

const { base, stop } = await startServer(['--config', config]);
let browser;
const k8s = (method, url, body, contentType = 'application/json') =>
  fetch(`${emu}${url}`, { method, headers: { 'content-type': contentType }, body: body && JSON.stringify(body) }).then(async (r) => {
    const text = await r.text();
    assert.ok(r.ok, `${method} ${url}: ${r.status} ${text}`);
    return JSON.parse(text);
  });
try {
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/status`);
  await page.waitForSelector('body[data-hydrated="true"]');
  const cell = '#board tr[data-resource="ApiDefinition/payments/payments-api"] td[data-cluster="staging"]';
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('missing'), cell, { timeout: 15_000 });
  await page.evaluate(() => { window.__noReload = true; });

  // The agent applies the API from Git: the board shows it synced, live.
  const doc = (await (await fetch(`${base}/api/v1/resources/ApiDefinition/payments/payments-api`)).json()).document;
  const started = Date.now();
  await k8s('POST', '/apis/tyk.tyk.io/v1alpha1/namespaces/payments/apidefinitions?fieldManager=argocd-controller', doc);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('synced'), cell, { timeout: 10_000 });
  const latency = Date.now() - started;
  await page.screenshot({ path: path.join(output, 'status-synced.png'), fullPage: true });

  // Someone edits the cluster: drifted, with who did it.
  await k8s('PATCH', '/apis/tyk.tyk.io/v1alpha1/namespaces/payments/apidefinitions/payments-api?fieldManager=kubectl-edit',
    { spec: { proxy: { target_url: 'http://hotfix:8080' } } }, 'application/merge-patch+json');
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('drifted'), cell, { timeout: 10_000 });
  const text = await page.locator(cell).textContent();
  assert.match(text, /spec\.proxy\.target_url/);
  assert.match(text, /kubectl-edit/);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the board updated without a reload');
  // The cluster card pictures its states; its label says the same in words.
  const bar = page.locator('.cluster .state-bar');
  await page.waitForFunction(() => /1 drifted/.test(document.querySelector('.cluster .state-bar')?.getAttribute('aria-label') ?? ''));
  assert.match(await bar.getAttribute('aria-label'), /\d+ missing/);
  assert.match(await page.locator('#pager').textContent(), /Rows 1–\d+ of \d+/);
  // "problems" counts everything not synced: the drifted API and the missing ones.
  const counts = await page.locator('#state-counts').textContent();
  const missing = Number(/missing (\d+)/.exec(counts)[1]);
  assert.match(counts, new RegExp(`problems ${missing + 1}(?!\\d)`));
  await page.screenshot({ path: path.join(output, 'status-drifted.png'), fullPage: true });

  // The API's own page shows its state per cluster, with the drift and who made it.
  await page.goto(`${base}/apis/payments/payments-api`);
  await page.waitForSelector('#cluster-states');
  const states = await page.locator('#cluster-states').textContent();
  assert.match(states, /staging\s*drifted/);
  assert.match(states, /changed by kubectl-edit/);
  // The page is live too: another edit in the cluster shows without a reload.
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.evaluate(() => { window.__noReload = true; });
  await k8s('PATCH', '/apis/tyk.tyk.io/v1alpha1/namespaces/payments/apidefinitions/payments-api?fieldManager=kubectl-edit',
    { spec: { proxy: { target_url: 'http://hotfix-2:8080' } } }, 'application/merge-patch+json');
  await page.waitForFunction(() => document.querySelector('#cluster-states')?.textContent.includes('hotfix-2'), null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the API page updated without a reload');
  await page.screenshot({ path: path.join(output, 'api-cluster-states.png'), fullPage: true });

  // Adopt the drift into Git as a signed-in user: a change request opens.
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Continue as dana' }).click();
  await page.waitForSelector('.who .user');
  await page.goto(`${base}/status`);
  await page.waitForSelector('body[data-hydrated="true"]');
  // A double click (its code loads on the first click) makes one change request.
  const before = (await (await fetch(`${base}/api/v1/changes`)).json()).length;
  await page.locator(`${cell} button.adopt`).dblclick();
  await page.waitForURL(/\/changes\/\d+$/);
  await page.waitForSelector('#change-state');
  assert.equal((await (await fetch(`${base}/api/v1/changes`)).json()).length, before + 1, 'one adopt change for a double click');
  assert.match(await page.locator('h1').textContent(), /Adopt drift of payments\/payments-api from staging/);
  assert.match(await page.locator('.diffs').textContent(), /http:\/\/hotfix-2:8080/);
  await page.screenshot({ path: path.join(output, 'status-adopted.png'), fullPage: true });
  // The page says who will receive it: every cluster that follows the environment.
  assert.match(await page.locator('#adoption-receivers').textContent(), /staging/);
  const changeUrl = page.url();

  // The agent re-applies Git: the drift is gone, so the adopt change is stale and cannot be
  // merged (it would ship the hotfix everywhere); the page says why.
  await k8s('PATCH', '/apis/tyk.tyk.io/v1alpha1/namespaces/payments/apidefinitions/payments-api?fieldManager=argocd-controller',
    { spec: { proxy: { target_url: doc.spec.proxy.target_url } } }, 'application/merge-patch+json');
  await page.goto(`${base}/status`);
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes('synced'), cell, { timeout: 10_000 });
  await page.goto(changeUrl);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.match(await page.locator('#adoption-stale').textContent(), /no longer runs what this change adopts/);
  assert.equal(await page.locator('#merge').isDisabled(), true, 'Merge is disabled on a stale change');
  const id = changeUrl.split('/').pop();
  const refused = await page.evaluate(async (id) => {
    // A script on the page sends the session's CSRF token, as the app does.
    const { csrf_token } = await (await fetch('/api/v1/session')).json();
    const r = await fetch(`/api/v1/changes/${id}/merge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf_token }, body: '{}' });
    return { status: r.status, body: await r.json() };
  }, id);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'stale');
  await page.screenshot({ path: path.join(output, 'status-adopt-stale.png'), fullPage: true });
  assert.deepEqual(errors, []);
  console.log(`status board browser test passed (cluster event to board: ${latency} ms)`);
} finally {
  await browser?.close();
  stop();
  emulator.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
