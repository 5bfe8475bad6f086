// Browser test of the change flow: fill the API form, see an inline validation error, fix it,
// preview the diff, propose as alice, approve and merge as bob, see the new value on the API
// page. Real headless Chromium against the real `tollgate demo` server; screenshots saved.
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/edit-flow.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, output, fillYaml } from './harness.mjs';

const { base, stop } = await startServer();
let browser;
try {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  const shot = (name) => page.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });

  // Alice signs in and opens the form for an API.
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Continue as alice' }).click();
  await page.waitForSelector('.who .user');
  await page.goto(`${base}/apis/payments/refunds`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.locator('#edit').click();
  await page.waitForSelector('#spec-proxy-target_url');
  assert.equal(await page.locator('#spec-proxy-target_url').inputValue(), 'http://refunds.payments.svc:8080');

  // An invalid value is flagged next to the field, and proposing is blocked.
  await page.locator('#spec-proxy-target_url').fill('refunds-v2 svc');
  await page.waitForSelector('#spec-proxy-target_url[aria-invalid="true"]');
  assert.match(await page.locator('#spec-proxy-target_url-errors').textContent(), /must be a URL/);
  assert.equal(await page.locator('#propose').isDisabled(), true);
  await shot('edit-invalid');

  // Fixed: the error goes away; the preview shows a one-line diff.
  await page.locator('#spec-proxy-target_url').fill('http://refunds-v2.payments.svc:8080');
  await page.waitForSelector('#spec-proxy-target_url[aria-invalid="false"]');
  assert.equal(await page.locator('#spec-proxy-target_url-errors').textContent(), '');
  await page.locator('#preview').click();
  await page.waitForSelector('#preview-panel table.diff');
  assert.equal(await page.locator('#preview-panel td.del').count(), 1);
  assert.equal(await page.locator('#preview-panel td.add').count(), 1);
  assert.match(await page.locator('#preview-panel td.add').textContent(), /target_url: http:\/\/refunds-v2\.payments\.svc:8080/);
  assert.match(await page.locator('#preview-panel #validation').textContent(), /All checks passed/);
  await shot('edit-preview');

  // Propose: a change request opens.
  await page.locator('#change-title').fill('Move refunds to v2');
  await page.locator('#propose').click();
  await page.waitForURL(/\/changes\/\d+$/);
  await page.waitForSelector('#change-state');
  assert.equal(await page.locator('#change-state').textContent(), 'open');
  assert.equal(await page.locator('#approve').count(), 0, 'the author cannot approve');
  const changeUrl = page.url();
  await shot('change-open');

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
  await bob.screenshot({ path: path.join(output, 'change-merged.png'), fullPage: true });

  // The API page shows the new target.
  const deadline = Date.now() + 10_000;
  for (;;) {
    await page.goto(`${base}/apis/payments/refunds`);
    if ((await page.locator('.fields').textContent()).includes('http://refunds-v2.payments.svc:8080')) break;
    assert.ok(Date.now() < deadline, 'the merged value never showed');
    await page.waitForTimeout(200);
  }
  await shot('api-after-merge');
  assert.deepEqual(errors, []);
  console.log('edit-flow browser test passed');
} finally {
  await browser?.close();
  stop();
}

// The policy and OAS forms: change a field, the preview is a one-line diff.
{
  const { base, stop } = await startServer();
  let browser;
  try {
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`${base}/login`);
    await page.getByRole('button', { name: 'Continue as alice' }).click();
    await page.waitForSelector('.who .user');

    await page.goto(`${base}/policies/catalog/partner-gold/edit`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.waitForSelector('#spec-rate');
    await page.locator('#spec-rate').fill('250');
    await page.locator('#preview').click();
    await page.waitForSelector('#preview-panel table.diff');
    assert.match(await page.locator('#preview-panel td.add').textContent(), /rate: 250/);
    assert.equal(await page.locator('#preview-panel td.add').count(), 1);
    await page.screenshot({ path: path.join(output, 'policy-edit.png'), fullPage: true });

    await page.goto(`${base}/oas/catalog/pet-store/edit`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.waitForSelector('#oas-upstream');
    await page.locator('#oas-upstream').fill('http://petstore-v2.catalog.svc:8080');
    await page.locator('#preview').click();
    await page.waitForSelector('#preview-panel table.diff');
    assert.equal(await page.locator('#preview-panel td.add').count(), 1, 'one line of the OAS JSON changes');
    assert.match(await page.locator('#preview-panel td.add').textContent(), /petstore-v2/);
    await page.screenshot({ path: path.join(output, 'oas-edit.png'), fullPage: true });
    assert.deepEqual(errors, []);
    console.log('policy and OAS form browser test passed');
  } finally {
    await browser?.close();
    stop();
  }
}

// Writes need a sign-in up front, and signing in comes back to the form. In the YAML editor a
// double click on Propose makes one change request, and a proposal the server refuses leaves
// a draft that can be resumed in the editor and is replaced by the change it becomes.
{
  const { base, stop } = await startServer();
  let browser;
  try {
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const shot = (name) => page.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });
    const changes = async () => (await (await fetch(`${base}/api/v1/changes`)).json());

    // Signed out, the form says so at the top and Propose is off.
    await page.goto(`${base}/apis/new?from=list`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.waitForSelector('#sign-in-notice');
    assert.equal(await page.locator('#propose').isDisabled(), true);
    assert.equal(await page.locator('#preview').isDisabled(), true, 'writes need a sign-in');
    await shot('form-signed-out');
    await page.locator('#sign-in-to-propose').click();
    await page.waitForURL(/\/login\?next=/);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.getByRole('button', { name: 'Continue as alice' }).click();
    await page.waitForURL(`${base}/apis/new?from=list`);
    await page.waitForSelector('.who .user');
    await page.waitForSelector('#metadata-name');
    assert.equal(await page.locator('#sign-in-notice').count(), 0, 'signed in: no notice');
    assert.equal(await page.locator('#preview').isDisabled(), false);

    // A double click on Propose in the YAML editor: one change request.
    await page.goto(`${base}/yaml/ApiDefinition/payments/refunds`);
    await page.waitForSelector('body[data-hydrated="true"]');
    const yaml = await page.locator('#yaml-text').inputValue();
    await fillYaml(page, yaml.replace('http://refunds.payments.svc:8080', 'http://refunds-v3.payments.svc:8080'));
    await page.locator('#change-title').fill('Refunds v3');
    const before = (await changes()).length;
    await page.locator('#propose').dblclick();
    await page.waitForURL(/\/changes\/\d+$/);
    await page.waitForSelector('#change-state');
    await page.waitForLoadState('networkidle');
    const after = await changes();
    assert.equal(after.length, before + 1, `one change per double click: ${JSON.stringify(after.map((c) => c.title))}`);

    // Refused by the server: the draft stays, marked as such, and resumes in the editor.
    await page.goto(`${base}/yaml/ApiDefinition/payments/refunds`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await fillYaml(page, yaml.replace('use_standard_auth: true', 'use_standard_auth: true\n  use_keyless: true'));
    await page.locator('#change-title').fill('Open refunds to all');
    await page.locator('#propose').click();
    await page.waitForSelector('.error[role="alert"]');
    assert.match(await page.locator('.error[role="alert"]').first().textContent(), /validation failed/);
    await page.goto(`${base}/changes`);
    const row = page.locator('#changes tr', { hasText: 'Open refunds to all' });
    assert.equal(await row.locator('.draft-badge').textContent(), 'Draft');
    await row.locator('a.name').click();
    await page.waitForSelector('#draft-note');
    await page.waitForSelector('body[data-hydrated="true"]');
    const draftUrl = page.url();
    await shot('draft');
    await page.locator('#draft-edits a.resume').click();
    await page.waitForURL(/\/yaml\/ApiDefinition\/payments\/refunds\?draft=\d+$/);
    await page.waitForSelector('#resuming');
    const resumed = await page.locator('#yaml-text').inputValue();
    assert.match(resumed, /use_keyless: true/, 'the draft\'s edit is loaded');
    assert.equal(await page.locator('#change-title').inputValue(), 'Open refunds to all');
    await fillYaml(page, resumed.replace('\n  use_keyless: true', '')
      .replace('http://refunds.payments.svc:8080', 'http://refunds-v4.payments.svc:8080'));
    await page.locator('#propose').click();
    await page.waitForURL(/\/changes\/\d+$/);
    await page.waitForSelector('#change-state');
    assert.equal(await page.locator('#change-state').textContent(), 'open');
    assert.notEqual(page.url(), draftUrl);
    const draftId = Number(draftUrl.split('/').pop());
    assert.ok((await changes()).every((c) => c.id !== draftId), 'the resumed draft is replaced');

    // A refused document edit (as the API form sends) resumes in the API form.
    const products = await (await fetch(`${base}/api/v1/resources/ApiDefinition/catalog/products`)).json();
    const broken = structuredClone(products.document);
    broken.spec.use_standard_auth = true;
    const csrf = (await (await page.request.get(`${base}/api/v1/session`)).json()).csrf_token;
    const refused = await page.request.post(`${base}/api/v1/changes`, {
      headers: { 'x-csrf-token': csrf },
      data: { title: 'Products with two auth modes', edits: [{ kind: 'ApiDefinition', namespace: 'catalog', name: 'products', document: broken }] },
    });
    assert.equal(refused.status(), 422);
    const formDraft = (await changes()).find((c) => c.title === 'Products with two auth modes');
    assert.equal(formDraft.state, 'draft');
    await page.goto(`${base}/changes/${formDraft.id}`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.locator('#draft-edits a.resume').click();
    await page.waitForURL(new RegExp(`/apis/catalog/products/edit\\?draft=${formDraft.id}$`));
    await page.waitForSelector('#spec-proxy-target_url');
    assert.equal(await page.locator('#change-title').inputValue(), 'Products with two auth modes');
    assert.match(await page.locator('#form-status').textContent(), /problem\(s\) to fix/, 'the draft\'s document is loaded');
    await page.locator('#auth-auth-token').check();
    await page.locator('#spec-proxy-target_url').fill('http://products-v2.catalog.svc:8080');
    await shot('form-resumed');
    await page.waitForFunction(() => !document.querySelector('#propose')?.disabled);
    await page.locator('#propose').click();
    await page.waitForURL(/\/changes\/\d+$/);
    await page.waitForSelector('#change-state');
    assert.equal(await page.locator('#change-state').textContent(), 'open');
    assert.ok((await changes()).every((c) => c.id !== formDraft.id), 'the resumed form draft is replaced');
    assert.deepEqual(errors, []);
    console.log('sign-in, double click and draft browser test passed');
  } finally {
    await browser?.close();
    stop();
  }
}

// The browser and the server agree. An untouched new form shows no errors; Preview shows the
// required ones. A listen path another API uses is an error at the field as it is typed, in
// the server's words, before Propose. An error only the server finds (a rename onto an
// existing API) comes back to the field it is about.
{
  const { base, stop } = await startServer();
  let browser;
  try {
    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const shot = (name) => page.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });
    await page.goto(`${base}/login`);
    await page.getByRole('button', { name: 'Continue as alice' }).click();
    await page.waitForSelector('.who .user');

    await page.goto(`${base}/apis/new`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.waitForSelector('#metadata-name');
    assert.equal(await page.locator('.field-errors p').count(), 0, 'an untouched form shows no errors');
    assert.match(await page.locator('#form-status').textContent(), /fill in the required fields/);
    await shot('new-api-untouched');
    await page.locator('#metadata-name').fill('orders');
    await page.locator('#metadata-name').fill('');
    await page.waitForSelector('#metadata-name-errors p.field-error');
    assert.match(await page.locator('#metadata-name-errors').textContent(), /a name is required/);
    assert.equal(await page.locator('#spec-name-errors p').count(), 0, 'only the touched field says so');
    await page.locator('#preview').click();
    await page.waitForSelector('#spec-name-errors p.field-error');
    assert.match(await page.locator('#spec-proxy-target_url-errors').textContent(), /target URL is required/);

    await page.locator('#metadata-name').fill('orders');
    await page.locator('#spec-name').fill('Orders');
    await page.locator('#spec-proxy-target_url').fill('http://orders.payments.svc:8080');
    await page.locator('#spec-proxy-listen_path').fill('/payments/invoices/');
    const taken = 'listen path /payments/invoices/ is already used by payments/invoices';
    await page.waitForFunction((t) => document.querySelector('#spec-proxy-listen_path-errors')?.textContent.includes(t), taken);
    assert.equal(await page.locator('#spec-proxy-listen_path').getAttribute('aria-invalid'), 'true');
    assert.doesNotMatch(await page.locator('#form-status').textContent(), /No problems found/);
    assert.equal(await page.locator('#propose').isDisabled(), true, 'Propose waits for a free listen path');
    await shot('new-api-listen-path-taken');
    // The same path on another domain is free.
    await page.locator('#spec-domain').fill('shop.example.com');
    await page.waitForFunction(() => document.querySelector('#spec-proxy-listen_path-errors')?.textContent === '');
    assert.match(await page.locator('#form-status').textContent(), /No problems found/);

    // A rename onto an existing API: the server refuses it, and says so at the name.
    await page.goto(`${base}/apis/payments/refunds/edit`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.waitForSelector('#metadata-name');
    await page.locator('#metadata-name').fill('invoices');
    await page.locator('#preview').click();
    await page.waitForFunction(() => /already exists/.test(document.querySelector('#metadata-name-errors')?.textContent ?? ''));
    assert.equal(await page.locator('#metadata-name').getAttribute('aria-invalid'), 'true');
    await shot('rename-refused-at-field');
    // The next edit clears what the server said about the old text; what the browser knows
    // stays: a policy still grants the API under its old name.
    await page.locator('#metadata-name').fill('refunds-v2');
    await page.waitForFunction(() => !/already exists/.test(document.querySelector('#metadata-name-errors')?.textContent ?? ''));
    assert.equal(await page.locator('#preview-panel').textContent(), '', 'the preview of the old text is put away');
    assert.match(await page.locator('#metadata-name-errors').textContent(),
      /SecurityPolicy\/payments\/payments-standard: grants ApiDefinition payments\/refunds, which does not exist/);
    assert.deepEqual(errors, []);
    console.log('cross-resource form browser test passed');
  } finally {
    await browser?.close();
    stop();
  }
}
