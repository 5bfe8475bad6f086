// Browser test of a change that holds several resources: a new API added to the change (seen
// by another tab too), the policy form offering it in its grant picker, the policy granting it
// added too, the change reviewed at /changes/new (a stray edit removed by keyboard, the combined
// preview), proposed as one change, then approved and merged by another user. Real headless Chromium against the
// real `tollgate demo` server; screenshots saved.
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/basket.mjs

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startServer, launch, output } from './harness.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// axe-core on the review page holding `stored`, in both schemes, at desktop and phone widths:
// no serious or critical finding, no sideways scrolling. Its own context, since the injected
// axe-core needs bypassCSP (the flow itself runs under the real CSP).
async function checkReviewPage(browser, base, stored) {
  const failures = [];
  for (const colorScheme of ['light', 'dark']) {
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme, bypassCSP: true });
      assert.ok((await context.request.post(`${base}/auth/demo`, { form: { user: 'alice' } })).ok());
      await context.addInitScript((value) => localStorage.setItem('tollgate.change', value), stored);
      const page = await context.newPage();
      await page.goto(`${base}/changes/new`);
      await page.waitForSelector('body[data-hydrated="true"]');
      await page.waitForSelector('#basket-edits tbody tr');
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
      for (const v of result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
        failures.push(`${colorScheme} ${width}px: ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
      if (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)) {
        failures.push(`${colorScheme} ${width}px: scrolls sideways`);
      }
      await page.screenshot({ path: path.join(output, `basket-review-${colorScheme}-${width}.png`), fullPage: true });
      await context.close();
    }
  }
  assert.deepEqual(failures, [], 'the review page has no serious accessibility finding');
}

const { base, stop } = await startServer();
let browser;
try {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const shot = (name) => page.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });
  const held = () => page.locator('#basket-link .count').textContent();
  const open = async (url) => {
    await page.goto(`${base}${url}`);
    await page.waitForSelector('body[data-hydrated="true"]');
  };
  const newApi = async (name, listenPath) => {
    await open('/apis/new');
    await page.waitForSelector('#metadata-name');
    await page.locator('#metadata-name').fill(name);
    await page.locator('#metadata-namespace').fill('shop');
    await page.locator('#spec-name').fill(`Shop ${name}`);
    await page.locator('#spec-proxy-listen_path').fill(listenPath);
    await page.locator('#spec-proxy-target_url').fill(`http://${name}.shop.svc:8080`);
    await page.waitForFunction(() => !document.querySelector('#add-to-change')?.disabled);
    await page.locator('#add-to-change').click();
    await page.waitForFunction(() => /Added to your change/.test(document.querySelector('#basket-status')?.textContent ?? ''));
  };

  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Continue as alice' }).click();
  await page.waitForSelector('.who .user');

  // A new API goes into the change; the header counts it, in another tab too.
  const other = await context.newPage();
  other.on('pageerror', (e) => errors.push(`pageerror (other tab): ${e.message}`));
  await other.goto(`${base}/apis`);
  await other.waitForSelector('body[data-hydrated="true"]');
  await newApi('orders', '/shop/orders/');
  assert.equal(await held(), '1');
  await other.waitForFunction(() => document.querySelector('#basket-link .count')?.textContent === '1');
  await other.close();
  await shot('basket-api-added');

  // The policy form offers the collected API, and granting it is no problem: the form checks
  // against the repo with the change.
  await open('/policies/new');
  await page.waitForSelector('#metadata-name');
  assert.equal(await held(), '1', 'the change survives a page load');
  await page.locator('#metadata-name').fill('orders-gold');
  await page.locator('#metadata-namespace').fill('shop');
  await page.locator('#spec-name').fill('Orders gold');
  await page.locator('#add-right').click();
  const option = page.locator('#right-0-api option[value="ApiDefinition/shop/orders"]');
  await option.waitFor({ state: 'attached' });
  assert.equal(await option.textContent(), 'shop/orders (in your change)');
  await page.locator('#right-0-api').selectOption('ApiDefinition/shop/orders');
  await page.waitForFunction(() => !document.querySelector('#add-to-change')?.disabled);
  assert.equal(await page.locator('#right-0-errors').textContent(), '');
  assert.equal(await page.locator('#form-status').textContent(), 'No problems found.');
  await page.locator('#add-to-change').click();
  await page.waitForFunction(() => document.querySelector('#basket-link .count')?.textContent === '2');
  await shot('basket-policy-added');

  // A stray edit, added and then removed from the review page with the keyboard.
  await newApi('scratch', '/shop/scratch/');
  assert.equal(await held(), '3');
  await page.locator('#basket-link').click();
  await page.waitForURL(/\/changes\/new$/);
  await page.waitForSelector('#basket-edits tbody tr');
  assert.equal(await page.locator('#basket-edits tbody tr').count(), 3);
  await page.getByRole('button', { name: 'Remove ApiDefinition shop/scratch from the change' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#basket-edits tbody tr').length === 2);
  assert.equal(await held(), '2');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Edits', 'focus moves to the list');
  const rows = await page.locator('#basket-edits tbody tr td:nth-child(2)').allTextContents();
  assert.deepEqual(rows, ['shop/orders', 'shop/orders-gold']);

  await checkReviewPage(browser, base, await page.evaluate(() => localStorage.getItem('tollgate.change')));

  // The combined preview: both files, checked together.
  await page.locator('#preview').click();
  await page.waitForSelector('#preview-panel table.diff');
  assert.equal(await page.locator('#preview-panel table.diff').count(), 2);
  assert.match(await page.locator('#preview-panel #validation').textContent(), /All checks passed/);
  await shot('basket-preview');

  // Proposed as one change: the change page lists both files; the collection is emptied.
  await page.locator('#change-title').fill('Orders with its gold plan');
  await page.locator('#propose').click();
  await page.waitForURL(/\/changes\/\d+$/);
  await page.waitForSelector('#change-state');
  assert.equal(await page.locator('#change-state').textContent(), 'open');
  assert.equal(await page.locator('table.diff').count(), 2, 'one change with both files');
  assert.equal(await page.locator('#basket-link').count(), 0);
  assert.equal(await page.evaluate(() => localStorage.getItem('tollgate.change')), null);
  const changeUrl = page.url();
  await shot('basket-proposed');

  // Bob approves and merges.
  const bob = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  bob.on('pageerror', (e) => errors.push(`pageerror (bob): ${e.message}`));
  await bob.goto(`${base}/login`);
  await bob.getByRole('button', { name: 'Continue as bob' }).click();
  await bob.waitForSelector('.who .user');
  await bob.goto(changeUrl);
  await bob.waitForSelector('body[data-hydrated="true"]');
  await bob.locator('#approve').click();
  await bob.waitForFunction(() => !document.querySelector('#merge')?.disabled, null, { timeout: 10_000 });
  await bob.locator('#merge').click();
  await bob.waitForFunction(() => document.querySelector('#change-state')?.textContent === 'merged', null, { timeout: 10_000 });
  await bob.screenshot({ path: path.join(output, 'basket-merged.png'), fullPage: true });

  // The policy page shows the grant of the new API.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await page.goto(`${base}/policies/shop/orders-gold`);
    if (response.status() === 200 && (await page.locator('main').textContent()).includes('shop/orders')) break;
    assert.ok(Date.now() < deadline, 'the merged policy never showed');
    await page.waitForTimeout(200);
  }
  assert.deepEqual(errors, []);
  console.log('basket browser test passed');
} finally {
  await browser?.close();
  stop();
}
