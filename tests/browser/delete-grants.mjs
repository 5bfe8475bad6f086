// Browser test of two new-user paths: a new API's default change title follows its name, and
// deleting an API a policy grants offers *Also remove the grant*, which proposes one change.
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/delete-grants.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, output } from './harness.mjs';

const { base, stop } = await startServer();
let browser;
try {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));

  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Continue as alice' }).click();
  await page.waitForSelector('.who .user');

  // The title names the API as its name and namespace are typed.
  await page.goto(`${base}/apis/new`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.locator('#metadata-namespace').fill('payments');
  await page.locator('#metadata-name').fill('new-api');
  await page.waitForFunction(() => document.querySelector('#change-title')?.value === 'Add API payments/new-api');

  // Deleting refunds: payments-standard grants it, so the delete offers to remove the grant.
  await page.goto(`${base}/apis/payments/refunds`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.locator('#delete').click();
  await page.waitForSelector('#delete-with-grants');
  assert.match(await page.locator('#granted-note').textContent(), /payments\/payments-standard/);
  await page.screenshot({ path: path.join(output, 'delete-with-grants.png'), fullPage: true });
  await page.locator('#delete-with-grants').click();
  await page.waitForURL(/\/changes\/\d+$/);
  await page.waitForSelector('#change-state');
  assert.match(await page.locator('h1').textContent(), /Delete API payments\/refunds and its grant in payments\/payments-standard/);
  assert.match(await page.locator('#change-state').textContent(), /open/);
  assert.match(await page.locator('#validation').textContent(), /All checks passed/);
  assert.deepEqual(errors, []);
  console.log('delete with grants browser test passed');
} finally {
  await browser?.close();
  await stop();
}
