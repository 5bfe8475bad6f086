// Browser test of an API's history and going back: alice changes the refunds target and bob
// merges it; the API's History tab lists both versions with the field diff; restoring the first
// version opens a change request whose diff is the one line back, and the activity feed, open
// meanwhile, shows it arrive. Real headless Chromium
// against the real `tollgate demo` server; screenshots saved.
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/history.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, output } from './harness.mjs';

const { base, stop } = await startServer();
let browser;
try {
  browser = await launch();
  const errors = [];
  const signIn = async (who) => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('pageerror', (e) => errors.push(`pageerror (${who}): ${e.message}`));
    await page.goto(`${base}/login`);
    await page.getByRole('button', { name: `Continue as ${who}` }).click();
    await page.waitForSelector('.who .user');
    return page;
  };
  const alice = await signIn('alice');
  const shot = (name) => alice.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });

  // Alice moves refunds to v2 through the form; bob approves and merges.
  await alice.goto(`${base}/apis/payments/refunds/edit`);
  await alice.waitForSelector('body[data-hydrated="true"]');
  await alice.waitForSelector('#spec-proxy-target_url');
  await alice.locator('#spec-proxy-target_url').fill('http://refunds-v2.payments.svc:8080');
  await alice.locator('#change-title').fill('Move refunds to v2');
  await alice.locator('#propose').click();
  await alice.waitForURL(/\/changes\/\d+$/);
  await alice.waitForSelector('#change-state');
  const bob = await signIn('bob');
  await bob.goto(alice.url());
  await bob.waitForSelector('body[data-hydrated="true"]');
  await bob.locator('#approve').click();
  await bob.waitForFunction(() => !document.querySelector('#merge')?.disabled, null, { timeout: 10_000 });
  await bob.locator('#merge').click();
  await bob.waitForFunction(() => document.querySelector('#change-state')?.textContent === 'merged', null, { timeout: 10_000 });

  // The History tab: reached from the page's tabs, two versions once the index has the merge.
  await alice.goto(`${base}/apis/payments/refunds`);
  await alice.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await alice.locator('#overview-tab').getAttribute('aria-current'), 'page');
  const deadline = Date.now() + 15_000;
  for (;;) {
    await alice.locator('#history-tab').click();
    await alice.waitForURL(/\?tab=history$/);
    await alice.waitForSelector('#history-count');
    if ((await alice.locator('.history-entry').count()) === 2) break;
    assert.ok(Date.now() < deadline, 'the merge never showed in the history');
    await alice.waitForTimeout(300);
    await alice.goto(`${base}/apis/payments/refunds`);
    await alice.waitForSelector('body[data-hydrated="true"]');
  }
  assert.equal(await alice.locator('#history-tab').getAttribute('aria-current'), 'page');
  assert.equal(await alice.locator('#overview').isHidden(), true, 'the overview hides on the History tab');
  assert.match(await alice.locator('#history-count').textContent(), /2 commits changed it/);

  // Newest first: the merge, with its change request and its one-field diff.
  const newest = alice.locator('.history-entry').first();
  assert.match(await newest.locator('.entry-head').textContent(), /Move refunds to v2/);
  assert.match(await newest.locator('a.pull').textContent(), /change \d+/);
  assert.equal(await newest.locator('button.restore').count(), 0, 'the current version has nothing to restore');
  assert.match(await newest.textContent(), /Current version/);
  await newest.locator('details summary').click();
  const row = newest.locator('table.fields-diff tbody tr');
  assert.equal(await row.count(), 1, 'one field changed');
  assert.equal(await row.locator('td').nth(0).textContent(), 'spec.proxy.target_url');
  assert.equal(await row.locator('td.removed').textContent(), 'http://refunds.payments.svc:8080');
  assert.equal(await row.locator('td.added').textContent(), 'http://refunds-v2.payments.svc:8080');
  await shot('history');

  // The activity feed lists the proposal and the merge, and takes new items live.
  const feed = await signIn('carol');
  await feed.goto(`${base}/activity`);
  await feed.waitForSelector('body[data-hydrated="true"]');
  const proposedItems = () => feed.locator('#activity li[data-kind="proposed"]').count();
  assert.equal(await proposedItems(), 1, 'the proposal is in the feed');
  assert.equal(await feed.locator('#activity li[data-kind="merged"]').count(), 1, 'the merge is in the feed');

  // Restore the first version: a change request whose diff is that one line back.
  const oldest = alice.locator('.history-entry').last();
  assert.match(await oldest.locator('.entry-head').textContent(), /created/);
  await oldest.locator('button.restore').dblclick();
  await alice.waitForURL(/\/changes\/\d+$/);
  await alice.waitForSelector('#change-state');
  await alice.waitForLoadState('networkidle');
  assert.match(await alice.locator('h1').textContent(), /Restore/);
  assert.equal(await alice.locator('#change-state').textContent(), 'open');
  assert.equal(await alice.locator('td.del').count(), 1, 'one line out');
  assert.equal(await alice.locator('td.add').count(), 1, 'one line in');
  assert.match(await alice.locator('td.del').textContent(), /refunds-v2\.payments\.svc/);
  assert.match(await alice.locator('td.add').textContent(), /target_url: http:\/\/refunds\.payments\.svc:8080/);
  const changes = await (await fetch(`${base}/api/v1/changes`)).json();
  assert.equal(changes.filter((c) => c.title.startsWith('Restore')).length, 1, 'a double click restores once');
  await shot('history-restored');
  // The open feed shows the restore's proposal without a reload.
  await feed.waitForFunction(() => document.querySelectorAll('#activity li[data-kind="proposed"]').length === 2, null, { timeout: 10_000 });
  assert.match(await feed.locator('#activity li[data-kind="proposed"]').first().textContent(), /Restore/);
  await feed.screenshot({ path: path.join(output, 'activity.png'), fullPage: true });

  // Insights counts the merged change, with its charts drawn on the server.
  await feed.goto(`${base}/insights`);
  await feed.waitForSelector('body[data-hydrated="true"]');
  // Lead time and changes per week (drift has no chart without clusters).
  assert.equal(await feed.locator('svg.chart[role="img"]').count(), 2, 'the charts are there');
  const merged = await feed.locator('#weeks tbody tr td:nth-of-type(1)').allTextContents();
  assert.equal(merged.reduce((sum, n) => sum + Number(n), 0), 1, `one change merged: ${merged}`);
  await feed.screenshot({ path: path.join(output, 'insights.png'), fullPage: true });
  assert.deepEqual(errors, []);
  console.log('history browser test passed');
} finally {
  await browser?.close();
  await stop();
}
