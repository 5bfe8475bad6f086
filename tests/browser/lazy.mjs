// Browser test of the split bundle (lazily loaded pages):
// - the APIs list and the status board load no lazily loaded part;
// - following a link to a lazy page (client-side navigation) fetches its group's parts and
//   shows the page, with no page error;
// - a part that cannot be loaded (a tab left open across an upgrade: the old bundle is gone)
//   loads the page afresh once, and never loops.
//
//   TOLLGATE_BIN=... node tests/browser/lazy.mjs

import assert from 'node:assert/strict';
import { launch, startServer } from './harness.mjs';

const isPart = (url) => /\/(split|chunk)_[^/]*\.wasm$/.test(new URL(url).pathname);
const { base, stop } = await startServer();
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const parts = [];
  page.on('request', (r) => { if (isPart(r.url())) parts.push(new URL(r.url()).pathname.split('/').pop()); });

  for (const path of ['/apis', '/status']) {
    await page.goto(`${base}${path}`);
    await page.waitForSelector('body[data-hydrated="true"]');
    assert.deepEqual(parts, [], `${path} loads no lazily loaded part`);
  }

  // Client-side navigation to a lazy page: its group's parts come when it is first shown.
  await page.goto(`${base}/apis`);
  await page.waitForSelector('body[data-hydrated="true"]');
  const before = await page.evaluate(() => performance.getEntriesByType('navigation').length);
  await page.locator('header a[href="/changes"]').click();
  await page.waitForSelector('h1:text-is("Change requests")');
  assert.ok(parts.some((p) => p.startsWith('split_change_pages')), `the change pages' part was fetched: ${parts}`);
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), before, 'no full page load');
  assert.equal(new URL(page.url()).pathname, '/changes');
  assert.deepEqual(errors, [], 'no page errors');

  // A part that cannot be loaded: the page loads afresh, once.
  const broken = await context.newPage();
  await broken.route((url) => isPart(url.href), (route) => route.abort());
  let loads = 0;
  broken.on('load', () => { loads += 1; });
  await broken.goto(`${base}/apis`);
  await broken.waitForSelector('body[data-hydrated="true"]');
  assert.equal(loads, 1);
  await broken.locator('header a[href="/problems"]').click();
  const deadline = Date.now() + 15_000;
  while (loads < 2 && Date.now() < deadline) await broken.waitForTimeout(100);
  assert.equal(loads, 2, 'a part that cannot be loaded loads the page afresh');
  await broken.waitForTimeout(3_000);
  assert.equal(loads, 2, 'and only once: no reload loop');
  console.log('lazy pages browser test passed');
} finally {
  await browser.close();
  stop();
}
