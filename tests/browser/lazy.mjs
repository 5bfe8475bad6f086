// Browser test of the split bundle (lazily loaded pages):
// - the APIs list and the status board load no lazily loaded part;
// - a lazy page's first load fetches its parts as one bundle (the file its preload link names)
//   and no part alone; a bundle that cannot be loaded leaves the page to fetch its parts alone;
// - following a link to a lazy page (client-side navigation) fetches its group's bundle (none
//   of its code is loaded yet) and shows the page, with no page error;
// - a part that cannot be loaded (a tab left open across an upgrade: the old bundle is gone)
//   loads the page afresh once, and never loops.
//
//   TOLLGATE_BIN=... node tests/browser/lazy.mjs

import assert from 'node:assert/strict';
import { launch, startServer } from './harness.mjs';

const isPart = (url) => /\/(split|chunk)_[^/]*\.wasm$/.test(new URL(url).pathname);
const isBundle = (url) => /\/bundle_[^/]*\.wasm$/.test(new URL(url).pathname);
const file = (url) => new URL(url).pathname.split('/').pop();
const { base, stop } = await startServer();
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const parts = [];
  const bundles = [];
  page.on('request', (r) => {
    if (isPart(r.url())) parts.push(file(r.url()));
    if (isBundle(r.url())) bundles.push(file(r.url()));
  });

  for (const path of ['/apis', '/status']) {
    await page.goto(`${base}${path}`);
    await page.waitForSelector('body[data-hydrated="true"]');
    assert.deepEqual(parts, [], `${path} loads no lazily loaded part`);
    assert.deepEqual(bundles, [], `${path} loads no bundle`);
  }

  // The first load of a lazy page: one bundle, which holds every part the page needs.
  await page.goto(`${base}/apis/new`);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(bundles.length, 1, `one bundle: ${bundles}`);
  assert.match(bundles[0], /^bundle_api_form_\d+\.wasm$/);
  assert.deepEqual(parts, [], 'no part fetched alone');
  const folder = await page.evaluate(() => document.querySelector('link[rel="modulepreload"][href$="/__wasm_split.js"]').href.replace(/__wasm_split\.js$/, ''));
  const inBundle = (await (await fetch(`${folder}__wasm_split_parts.json`)).json())[bundles[0].slice('bundle_'.length, -'.wasm'.length)];
  assert.ok(inBundle.length > 1, `the bundle holds the page's parts: ${inBundle}`);
  // Then navigating to another lazy page fetches only the parts not loaded yet, alone.
  await page.locator('header a[href="/changes"]').click();
  await page.waitForSelector('h1:text-is("Change requests")');
  assert.equal(bundles.length, 1, 'no second bundle on navigation');
  assert.ok(parts.length > 0 && parts.every((p) => !inBundle.includes(p.slice(0, -'.wasm'.length))), `only new parts: ${parts}`);
  assert.deepEqual(errors, [], 'no page errors');
  parts.length = 0;
  bundles.length = 0;

  // A bundle that cannot be loaded: the page fetches its parts alone and still hydrates.
  const noBundle = await context.newPage();
  await noBundle.route((url) => isBundle(url.href), (route) => route.abort());
  const alone = [];
  noBundle.on('request', (r) => { if (isPart(r.url())) alone.push(file(r.url())); });
  noBundle.on('pageerror', (e) => errors.push(e.message));
  await noBundle.goto(`${base}/policies/new`);
  await noBundle.waitForSelector('body[data-hydrated="true"]');
  assert.ok(alone.some((p) => p.startsWith('split_policy_form')), `parts fetched alone: ${alone}`);
  await noBundle.getByLabel('Resource name', { exact: true }).fill('gold');
  assert.deepEqual(errors, [], 'no page errors');
  await noBundle.close();

  // Client-side navigation to a lazy page: its group's code comes when it is first shown, as
  // the group's bundle, since none of it is loaded yet.
  await page.goto(`${base}/apis`);
  await page.waitForSelector('body[data-hydrated="true"]');
  const before = await page.evaluate(() => performance.getEntriesByType('navigation').length);
  await page.locator('header a[href="/changes"]').click();
  await page.waitForSelector('h1:text-is("Change requests")');
  assert.equal(bundles.length, 1, `one bundle: ${bundles}`);
  assert.match(bundles[0], /^bundle_change_pages_\d+\.wasm$/);
  assert.deepEqual(parts, [], 'no part fetched alone');
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), before, 'no full page load');
  assert.equal(new URL(page.url()).pathname, '/changes');
  assert.deepEqual(errors, [], 'no page errors');
  bundles.length = 0;

  // A part that cannot be loaded: the page loads afresh, once.
  const broken = await context.newPage();
  await broken.route((url) => isPart(url.href) || isBundle(url.href), (route) => route.abort());
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
