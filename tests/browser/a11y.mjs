// Browser test of accessibility and small screens: axe-core on every page, in light and dark
// mode, at 1280 px and 390 px (a phone). Fails on any serious or critical axe violation and on
// any page that scrolls sideways; saves a screenshot of every page in both modes and widths
// (tests/browser/output/a11y-*.png). Also checks that the header collapses into a menu on a
// phone that works without JavaScript and by keyboard, that focus rings are clear, that diffs
// are unified on a phone, and that the status board's state filter shows which state is chosen.
//
//   TOLLGATE_BIN=... EMULATOR_BIN=... node tests/browser/a11y.mjs
//
// Light-mode pages are visited signed out, dark-mode pages signed in (as bob, who did not
// author the change, so its review buttons show): each state is seen at both widths.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'playwright-core';
import { startServer, launch, output } from './harness.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const crds = path.resolve(here, '../fixtures/crds/tyk-operator.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-a11y-'));
const kubeconfig = path.join(dir, 'staging.kubeconfig');

// One emulated cluster, so /status shows its board (the widest table).
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

const k8s = async (method, url, body, contentType = 'application/json') => {
  const r = await fetch(`${emu}${url}`, { method, headers: { 'content-type': contentType }, body: JSON.stringify(body) });
  assert.ok(r.ok, `${method} ${url}: ${r.status} ${await r.text()}`);
};
const json = async (url) => (await fetch(`${base}${url}`)).json();

// WCAG contrast ratio of two computed `rgb(…)` colours.
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// What axe does not see: the phone menu, focus rings, unified diffs, the chosen state filter,
// relative times.
async function checkBehaviour(browser, change) {
  // The phone menu opens by keyboard before (here: without) JavaScript, and its links work.
  const noJs = await browser.newContext({ viewport: { width: 390, height: 800 }, javaScriptEnabled: false });
  let page = await noJs.newPage();
  await page.goto(`${base}/apis`);
  const policies = page.locator('header nav a[href="/policies"]');
  assert.equal(await policies.isVisible(), false, 'on a phone the navigation starts collapsed');
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab'); // brand
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'SUMMARY', 'the menu button is next in tab order');
  await page.keyboard.press('Enter');
  assert.equal(await policies.isVisible(), true, 'Enter opens the menu without JavaScript');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '/apis', 'Tab goes into the open menu');
  await page.screenshot({ path: path.join(output, 'a11y-menu-open-390.png') });
  await policies.click();
  await page.waitForURL(/\/policies$/);
  await noJs.close();
  // Hydrated, a link of the open menu navigates in the app and closes the menu.
  const phone = await browser.newContext({ viewport: { width: 390, height: 800 } });
  page = await phone.newPage();
  await page.goto(`${base}/apis`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.evaluate(() => { window.__noReload = true; });
  await page.locator('details.menu > summary').click();
  await page.locator('header nav a[href="/changes"]').click();
  await page.waitForURL(/\/changes$/);
  await page.waitForFunction(() => !document.querySelector('details.menu').open);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the menu navigates without a reload');
  await phone.close();

  for (const colorScheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme });
    page = await context.newPage();
    // On a wide screen the navigation shows without opening anything.
    await page.goto(`${base}/apis`);
    await page.waitForSelector('body[data-hydrated="true"]');
    assert.equal(await page.locator('header nav a[href="/policies"]').isVisible(), true, 'wide: navigation visible');
    assert.equal(await page.locator('details.menu > summary').isVisible(), false, 'wide: no menu button');
    // Focus rings: at least 2 px, and 3:1 against what they are drawn on.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const e = document.activeElement, s = getComputedStyle(e);
      return { cls: e.className, style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
        bg: getComputedStyle(document.querySelector('header.top')).backgroundColor };
    });
    assert.equal(ring.cls, 'brand', 'the second Tab reaches the header');
    assert.ok(ring.style !== 'none' && ring.width >= 2, `header focus ring drawn (${ring.style} ${ring.width}px)`);
    const headerRing = contrast(ring.color, ring.bg);
    assert.ok(headerRing >= 3, `header focus ring contrast ${headerRing.toFixed(2)} (${colorScheme})`);
    await page.locator('#filter').focus();
    const field = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, bg: getComputedStyle(document.body).backgroundColor };
    });
    const fieldRing = contrast(field.color, field.bg);
    assert.ok(field.style !== 'none' && field.width >= 2 && fieldRing >= 3, `field focus ring ${field.width}px, contrast ${fieldRing.toFixed(2)} (${colorScheme})`);
    console.log(`focus rings (${colorScheme}): header ${headerRing.toFixed(2)}:1, page ${fieldRing.toFixed(2)}:1`);

    // The state filter on the status board shows which state is chosen.
    const chip = page.locator('#state-counts a.chip.state-drifted');
    await page.goto(`${base}/status`);
    const plain = await chip.evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.equal(await chip.getAttribute('aria-current'), null);
    await page.goto(`${base}/status?state=drifted`);
    assert.equal(await chip.getAttribute('aria-current'), 'true', 'the chosen state is marked current');
    const chosen = await chip.evaluate((e) => ({ bg: getComputedStyle(e).backgroundColor, weight: getComputedStyle(e).fontWeight }));
    assert.notEqual(chosen.bg, plain, 'the chosen state looks chosen');
    assert.equal(chosen.weight, '600');
    await context.close();
  }

  // Diffs: side by side on a wide screen, unified (removed line above added line) on a phone.
  for (const width of [1280, 390]) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    page = await context.newPage();
    await page.goto(`${base}/changes/${change}`);
    // Times read "… ago", with the exact time on hover and in datetime.
    const time = page.locator('ol.events time').first();
    assert.match(await time.textContent(), /^(just now|\d+ (min|h|days) ago)$/);
    assert.match(await time.getAttribute('title'), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    assert.match(await time.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
    const del = await page.locator('table.diff td.del').first().boundingBox();
    const add = await page.locator('table.diff td.add').first().boundingBox();
    if (width === 390) {
      assert.ok(Math.abs(del.x - add.x) < 1 && add.y >= del.y + del.height - 1, `unified diff on a phone: ${JSON.stringify({ del, add })}`);
    } else {
      assert.ok(add.x > del.x + del.width - 1 && Math.abs(add.y - del.y) < 1, 'side-by-side diff on a wide screen');
    }
    await context.close();
  }
}

let browser;
try {
  // A drifted API on the cluster, so the board shows drift details and an adopt button.
  const doc = (await json('/api/v1/resources/ApiDefinition/payments/payments-api')).document;
  await k8s('POST', '/apis/tyk.tyk.io/v1alpha1/namespaces/payments/apidefinitions?fieldManager=argocd-controller', doc);
  await k8s('PATCH', '/apis/tyk.tyk.io/v1alpha1/namespaces/payments/apidefinitions/payments-api?fieldManager=kubectl-edit',
    { spec: { proxy: { target_url: 'http://hotfix.payments.svc.cluster.local:8080/a/rather/long/path' } } }, 'application/merge-patch+json');

  // One of each kind of resource, and a change request made through the REST API.
  const first = async (kind) => (await json(`/api/v1/resources?kind=${kind}`)).items[0];
  const policy = await first('SecurityPolicy');
  const oas = await first('TykOasApiDefinition');
  const alice = await request.newContext({ baseURL: base });
  assert.ok((await alice.post('/auth/demo', { form: { user: 'alice' } })).ok());
  const csrf = (await (await alice.get('/api/v1/session')).json()).csrf_token;
  const created = await alice.post('/api/v1/changes', {
    headers: { 'content-type': 'application/json', 'idempotency-key': 'a11y-test-change', 'x-csrf-token': csrf },
    data: {
      title: 'Point payments at the v2 service',
      description: 'Made by the accessibility test.',
      edits: [{ kind: 'ApiDefinition', namespace: 'payments', name: 'payments-api', merge_patch: { spec: { proxy: { target_url: 'http://payments-v2.payments.svc:8080' } } } }],
    },
  });
  assert.ok(created.ok(), `change: ${created.status()} ${await created.text()}`);
  const change = (await created.json()).id;
  await alice.dispose();

  const pages = [
    ['apis', '/apis'],
    ['api-detail', '/apis/payments/payments-api'],
    ['api-history', '/apis/payments/payments-api?tab=history'],
    ['api-new', '/apis/new'],
    ['api-edit', '/apis/payments/payments-api/edit'],
    ['policies', '/policies'],
    ['policy-detail', `/policies/${policy.namespace}/${policy.name}`],
    ['policy-new', '/policies/new'],
    ['oas-detail', `/oas/${oas.namespace}/${oas.name}`],
    ['oas-new', '/oas/new'],
    ['yaml-edit', '/yaml/ApiDefinition/payments/payments-api'],
    ['changes', '/changes'],
    ['change', `/changes/${change}`],
    ['change-new', '/changes/new'],
    ['problems', '/problems'],
    ['status', '/status'],
    ['activity', '/activity'],
    ['insights', '/insights'],
    ['tokens', '/settings/tokens'],
    ['login', '/login'],
    ['not-found', '/no/such/page'],
  ];

  browser = await launch();
  const failures = [];
  const notes = [];
  const findings = { total: 0, byImpact: {}, byRule: {} };
  const errors = [];
  for (const colorScheme of ['light', 'dark']) {
    for (const width of [1280, 390]) {
      // CSP allows only the page's own scripts: the injected axe-core needs bypassCSP (tests only).
      const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme, bypassCSP: true });
      if (colorScheme === 'dark') {
        assert.ok((await context.request.post(`${base}/auth/demo`, { form: { user: 'bob' } })).ok());
      }
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
      for (const [slug, url] of pages) {
        const where = `${url} (${colorScheme}, ${width} px)`;
        await page.goto(`${base}${url}`);
        await page.waitForSelector('body[data-hydrated="true"]', { timeout: 15_000 });
        if (slug === 'status') await page.waitForSelector('#board');
        await page.addScriptTag({ content: axeSource });
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        for (const v of result.violations) {
          findings.total += v.nodes.length;
          findings.byImpact[v.impact] = (findings.byImpact[v.impact] ?? 0) + v.nodes.length;
          findings.byRule[v.id] = (findings.byRule[v.id] ?? 0) + v.nodes.length;
          if (v.impact !== 'serious' && v.impact !== 'critical') {
            notes.push(`${where}: [${v.impact}] ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
          } else {
            const nodes = v.nodes.slice(0, 5).map((n) => `      ${n.target.join(' ')}\n        ${n.failureSummary.replace(/\n/g, '\n        ')}`);
            const more = v.nodes.length > 5 ? [`      … and ${v.nodes.length - 5} more`] : [];
            failures.push([`${where}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`, ...nodes, ...more].join('\n'));
          }
        }
        const scroll = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
        if (scroll.scroll > scroll.inner) {
          const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 3).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''}`));
          failures.push(`${where}: scrolls sideways (${scroll.scroll} px wide in a ${scroll.inner} px window; first too wide: ${wide.join(', ')})`);
        }
        await page.screenshot({ path: path.join(output, `a11y-${slug}-${colorScheme}-${width}.png`), fullPage: true });
      }
      await context.close();
    }
  }
  await checkBehaviour(browser, change);
  console.log(`axe findings over ${pages.length} pages × 2 schemes × 2 widths: ${findings.total} nodes`,
    JSON.stringify(findings.byImpact), JSON.stringify(findings.byRule));
  if (notes.length) console.log(`minor and moderate findings (reported, not failed):\n  ${notes.join('\n  ')}`);
  if (failures.length) {
    console.error(`\n${failures.length} accessibility or layout failure(s):\n\n${failures.join('\n\n')}\n`);
  }
  assert.deepEqual(errors, [], 'no page errors');
  assert.equal(failures.length, 0, 'no serious or critical axe violations and no sideways scrolling');
  console.log('accessibility browser test passed');
} finally {
  await browser?.close();
  stop();
  emulator.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
}
