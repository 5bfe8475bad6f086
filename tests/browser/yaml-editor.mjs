// Browser test of the YAML editor (CodeMirror from /pkg/yaml-editor.js over the textarea):
// only its page loads it; it has line numbers and YAML highlighting; Tab indents and Escape
// then Tab moves on; a syntax error and a listen path another API uses show at their lines as
// you type; the diff toggle shows the changed line against the repo; in-app navigation to the
// page brings the editor up too. Under the pages' CSP.
//
//   TOLLGATE_BIN=path/to/tollgate node tests/browser/yaml-editor.mjs

import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launch, output, fillYaml } from './harness.mjs';

const { base, stop } = await startServer();
let browser;
try {
  browser = await launch();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(`console: ${m.text()}`); });
  const shot = (name) => page.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });
  const loaded = () => page.evaluate(() => ({
    tag: !!document.querySelector('script[src*="yaml-editor"]'),
    fetched: performance.getEntriesByType('resource').some((e) => e.name.includes('yaml-editor')),
  }));
  // 1-based numbers of the lines carrying a diagnostic of `severity`.
  const flagged = (severity = 'error') => page.evaluate((s) => [...document.querySelectorAll('.yaml-editor-host .cm-line')]
    .map((line, i) => (line.querySelector(`.cm-lintRange-${s}`) ? i + 1 : 0)).filter(Boolean), severity);

  // Other pages do not load the editor.
  await page.goto(`${base}/apis`);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.deepEqual(await loaded(), { tag: false, fetched: false }, '/apis loads no editor');

  const refunds = await (await fetch(`${base}/api/v1/resources/ApiDefinition/payments/refunds`)).json();
  const { apis } = await (await fetch(`${base}/api/v1/validation-context`)).json();
  const yaml = refunds.yaml;
  const lines = yaml.split('\n');

  // The editor page: CodeMirror replaces the textarea, with line numbers and highlighting.
  await page.goto(`${base}/yaml/ApiDefinition/payments/refunds`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.waitForSelector('.yaml-editor-host .cm-editor .cm-lineNumbers');
  assert.deepEqual(await loaded(), { tag: true, fetched: true });
  assert.equal(await page.locator('#yaml-text').isHidden(), true, 'the textarea is replaced');
  const numbers = await page.locator('.cm-lineNumbers .cm-gutterElement').allTextContents();
  assert.ok(numbers.includes('5'), `line numbers: ${JSON.stringify(numbers)}`);
  assert.ok(await page.locator('.cm-content span[class^="ͼ"]').count() > 3, 'YAML syntax highlighting');
  assert.deepEqual(await flagged(), [], 'the repo version has no error');

  // Tab at the start of line 3 indents by two spaces and keeps the focus; Escape, Tab moves on.
  await page.locator('.cm-line').nth(2).click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Tab');
  await page.waitForFunction((l) => document.querySelector('#yaml-text').value.split('\n')[2] === `  ${l}`, lines[2], { timeout: 5000 }).catch(async (e) => { console.log(JSON.stringify((await page.locator('#yaml-text').inputValue()).split('\n').slice(0, 4)), JSON.stringify(lines.slice(0, 4))); throw e; });
  assert.equal(await page.evaluate(() => !!document.activeElement.closest('.cm-editor')), true, 'Tab stays in the editor');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => !!document.activeElement.closest('.cm-editor')), false, 'Escape then Tab leaves it');

  // A syntax error on line 5 shows on line 5, as you type.
  const broken = [...lines];
  broken[4] = `${broken[4]}: broken`;
  await fillYaml(page, broken.join('\n'));
  await page.waitForFunction(() => document.querySelector('.yaml-editor-host .cm-lintRange-error'));
  assert.deepEqual(await flagged(), [5], 'the syntax error is on line 5');
  await shot('yaml-editor-syntax');

  // A listen path another API uses: the forms' rule, at the listen_path line.
  const own = apis.find((a) => a.namespace === 'payments' && a.name === 'refunds');
  const taken = apis.find((a) => a.kind === 'ApiDefinition' && a.name !== 'refunds' && a.domain === own.domain)?.listen_path;
  const at = lines.findIndex((l) => /^\s*listen_path:/.test(l));
  assert.ok(at >= 0 && taken);
  const conflicting = [...lines];
  conflicting[at] = conflicting[at].replace(/listen_path:.*/, `listen_path: ${taken}`);
  await fillYaml(page, conflicting.join('\n'));
  await page.waitForFunction(() => document.querySelector('.yaml-editor-host .cm-lintRange-error'));
  assert.deepEqual(await flagged(), [at + 1], `the conflict is on line ${at + 1}`);
  assert.match(await page.locator('#yaml-text').getAttribute('data-issues'), /spec\.proxy\.listen_path/);
  await page.locator('.cm-line').nth(at).locator('.cm-lintRange-error').hover();
  await page.waitForSelector('.cm-tooltip-lint');
  assert.match(await page.locator('.cm-tooltip-lint').textContent(), /listen_path/);
  await shot('yaml-editor-conflict');

  // The diff against the repo version shows the changed line, and hides again.
  await page.locator('#yaml-diff-toggle').click();
  await page.waitForSelector('.cm-changedLine');
  assert.match(await page.locator('.cm-changedLine').first().textContent(), new RegExp(`listen_path: ${taken}`));
  assert.match(await page.locator('.cm-deletedChunk').first().textContent(), new RegExp(lines[at].trim().replace(/[/.]/g, '\\$&')));
  assert.equal(await page.locator('#yaml-diff-toggle').getAttribute('aria-pressed'), 'true');
  await shot('yaml-editor-diff');
  await page.locator('#yaml-diff-toggle').click();
  await page.waitForFunction(() => !document.querySelector('.cm-changedLine'));

  // Fixed: no diagnostics left; the textarea (what is proposed) holds the editor's text.
  await fillYaml(page, yaml);
  await page.waitForFunction(() => !document.querySelector('.yaml-editor-host .cm-lintRange-error'));

  // The API page does not load the editor either; its link to the YAML editor navigates in
  // the app, and the editor still comes up over the new textarea.
  await page.goto(`${base}/apis/payments/refunds`);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal((await loaded()).tag, false, 'the API page loads no editor');
  await page.locator('a[href="/yaml/ApiDefinition/payments/refunds"]').first().click();
  await page.waitForURL(`${base}/yaml/ApiDefinition/payments/refunds`);
  await page.waitForSelector('.yaml-editor-host .cm-editor .cm-lineNumbers');
  assert.equal(await page.locator('.yaml-editor-host .cm-editor').count(), 1);
  assert.equal(await page.locator('.cm-line').count(), lines.length, 'the editor holds the whole text');

  assert.deepEqual(errors, []);
  console.log('yaml editor: ok');
} finally {
  await browser?.close();
  stop();
}
