// Browser test: real headless Chromium (Debian's) driven by playwright-core against the real
// `tollgate demo` server on a free loopback port with a fresh data folder.
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/browse.mjs
//
// Opens the APIs list, waits for hydration, filters client-side (no reload), opens a detail
// page, signs in as a demo user, and saves screenshots in tests/browser/output/.

import path from 'node:path';
import assert from 'node:assert/strict';
import { startServer, launch, output as out } from './harness.mjs';

const { base, stop: cleanup } = await startServer();
let browser;
try {
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('favicon')) errors.push(`console: ${m.text()}`); });

  // 1. The list, rendered on the server, then hydrated.
  await page.goto(`${base}/apis`);
  assert.equal(await page.locator('#apis tbody tr').count(), 14, 'all 14 APIs on the first page');
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 15_000 });
  await page.screenshot({ path: path.join(out, 'apis.png'), fullPage: true });

  // 2. Filter as you type: the list updates from the REST API without a page load.
  await page.evaluate(() => { window.__noReload = true; });
  await page.locator('#filter').fill('jwt');
  await page.waitForFunction(() => document.querySelectorAll('#apis tbody tr').length === 3, null, { timeout: 10_000 });
  const names = await page.locator('#apis tbody tr a.name').allTextContents();
  assert.deepEqual(names.sort(), ['accounts', 'invoices', 'reviews']);
  assert.match(page.url(), /\/apis\?q=jwt$/);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'filtering must not reload the page');
  assert.match(await page.locator('#result-count').textContent(), /Showing 1–3 of 3 APIs/);
  await page.screenshot({ path: path.join(out, 'apis-filtered.png'), fullPage: true });

  // 3. Open a detail page (client-side navigation).
  await page.locator('#apis a.name', { hasText: 'invoices' }).click();
  await page.waitForFunction(() => document.querySelector('h1')?.textContent.includes('invoices'), null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'navigation stays in the app');
  const tykId = Buffer.from('payments/invoices').toString('base64url');
  assert.equal(await page.locator('code.tyk-id').textContent(), tykId);
  assert.match(await page.locator('#granted-by').textContent(), /identity\/jwt-default/);
  assert.match(await page.locator('.yaml pre').textContent(), /enable_jwt: true/);
  await page.screenshot({ path: path.join(out, 'api-detail.png'), fullPage: true });

  // 4. A policy page, from a link on the detail page.
  await page.locator('#granted-by a', { hasText: 'identity/jwt-default' }).click();
  await page.waitForSelector('#grants', { timeout: 10_000 });
  assert.match(await page.locator('#grants').textContent(), /payments\/invoices/);
  await page.screenshot({ path: path.join(out, 'policy-detail.png'), fullPage: true });

  // 5. Demo sign-in.
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Continue as alice' }).click();
  await page.waitForSelector('.who .user', { timeout: 10_000 });
  assert.equal(await page.locator('.who .user').textContent(), 'alice');

  assert.deepEqual(errors, [], 'no errors in the browser console');
  console.log(`browser test passed; screenshots in ${out}`);
} finally {
  await browser?.close();
  cleanup();
}
