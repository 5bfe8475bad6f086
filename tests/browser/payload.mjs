// The payload report: what the first load of each page costs on the wire, measured in Chromium
// with a fresh profile and no cache (so `Accept-Encoding: br, gzip` as a browser sends it): the
// document, then every stylesheet, script and wasm part it loads until it is interactive, the
// lazily loaded parts of the page's code included. Data the page reads from `/api/` after it
// hydrated is printed beside it, not counted (the goals are about the app's code), and so are
// icons.
//
// Then the time to interactive (the page hydrated, its code loaded) of the APIs list and the
// status board on Chrome DevTools' "Fast 3G" preset: 562.5 ms latency, 1.44 Mbit/s down,
// 675 kbit/s up.
//
// Goals: the APIs list and the status board at most 250 KB, any page at most 400 KB, and
// interactive within 2 s on Fast 3G. With PAYLOAD_ENFORCE=1 a missed goal fails the run;
// without, the misses are printed. A page sent uncompressed always fails it.
//
//   TOLLGATE_BIN=... node tests/browser/payload.mjs

import { launch, startServer } from './harness.mjs';

const KB = 1000;
const listGoal = 250 * KB;
const anyGoal = 400 * KB;
const interactiveGoalMs = 2000;
const goals = { '/apis': listGoal, '/status': listGoal };
const fast3g = { offline: false, latency: 562.5, downloadThroughput: (1.6 * 1000 * 1000 / 8) * 0.9, uploadThroughput: (750 * 1000 / 8) * 0.9 };

const { base, stop } = await startServer();
const json = async (path) => (await fetch(base + path)).json();

/// Loads `path` in a fresh context and returns what came over the wire, by request, once the
/// page is interactive and no code is loading any more. With `network`, throttled to it.
async function load(browser, path, network) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (network) await cdp.send('Network.emulateNetworkConditions', network);
  const requests = new Map();
  cdp.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, done: false, bytes: 0 }));
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId);
    if (r) { r.status = e.response.status; r.encoding = e.response.headers['content-encoding'] ?? 'identity'; }
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId);
    if (r) { r.done = true; r.bytes = e.encodedDataLength; r.finishedAt = Date.now(); }
  });
  const started = Date.now();
  await page.goto(base + path, { waitUntil: 'load', timeout: 60_000 });
  await page.waitForSelector('body[data-hydrated]', { timeout: 60_000 });
  const hydratedAt = Date.now();
  // The code of a lazy page comes after the main module: wait until no script or wasm has been
  // in flight for 300 ms.
  const isCode = (url) => /\/(pkg|assets)\//.test(new URL(url).pathname);
  let quietSince = Date.now();
  while (Date.now() - quietSince < 300) {
    if ([...requests.values()].some((r) => isCode(r.url) && !r.done)) quietSince = Date.now();
    await new Promise((r) => setTimeout(r, 25));
  }
  const lastCode = Math.max(...[...requests.values()].filter((r) => isCode(r.url)).map((r) => r.finishedAt ?? 0));
  const interactiveMs = Math.max(hydratedAt, lastCode) - started;
  await context.close();
  return { requests: [...requests.values()], interactiveMs };
}

const failures = [];
const browser = await launch();
try {
  const first = async (kind) => (await json(`/api/v1/resources?kind=${kind}`)).items[0];
  const policy = await first('SecurityPolicy');
  const oas = await first('TykOasApiDefinition');
  const pages = [
    '/apis', '/status', '/apis/payments/payments-api', '/apis/payments/payments-api?tab=history',
    '/apis/new', '/apis/payments/payments-api/edit', '/yaml/ApiDefinition/payments/payments-api',
    '/policies', `/policies/${policy.namespace}/${policy.name}`, '/policies/new',
    `/oas/${oas.namespace}/${oas.name}`, '/oas/new', '/changes', '/changes/new', '/problems',
    '/activity', '/insights', '/login', '/settings/tokens',
  ];
  console.log('First load on the wire (Chromium, no cache; bytes include response headers):');
  for (const path of pages) {
    const { requests } = await load(browser, path);
    // The goals count HTML, wasm, JS and CSS; icons and API data are printed apart.
    const code = requests.filter((r) => r.done && r.status !== undefined && !r.url.startsWith('data:')
      && !/^\/api\/|\.(svg|png|ico)$/.test(new URL(r.url).pathname));
    const data = requests.filter((r) => r.done && new URL(r.url).pathname.startsWith('/api/'));
    const total = code.reduce((n, r) => n + r.bytes, 0);
    const dataBytes = data.reduce((n, r) => n + r.bytes, 0);
    const unencoded = code.filter((r) => /\.(wasm|js|css)$/.test(new URL(r.url).pathname) && r.encoding === 'identity');
    if (unencoded.length) failures.push(`${path}: sent uncompressed: ${unencoded.map((r) => r.url).join(', ')}`);
    const goal = goals[path] ?? anyGoal;
    const ok = total <= goal;
    if (!ok) failures.push(`${path}: ${(total / KB).toFixed(1)} KB > ${goal / KB} KB`);
    const parts = code.map((r) => `${new URL(r.url).pathname.split('/').pop() || 'html'} ${(r.bytes / KB).toFixed(1)}`);
    console.log(`${ok ? 'ok    ' : 'MISSED'} ${path}: ${(total / KB).toFixed(1)} KB of ${goal / KB} KB (+${(dataBytes / KB).toFixed(1)} KB of API data) — ${parts.join(', ')}`);
  }

  console.log('Time to interactive on Fast 3G (562.5 ms latency, 1.44 Mbit/s down):');
  for (const path of ['/apis', '/status']) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await load(browser, path, fast3g)).interactiveMs);
    const median = runs.sort((a, b) => a - b)[1];
    const ok = median <= interactiveGoalMs;
    if (!ok) failures.push(`${path}: interactive in ${median} ms on Fast 3G > ${interactiveGoalMs} ms`);
    console.log(`${ok ? 'ok    ' : 'MISSED'} ${path}: interactive in ${median} ms (median of ${runs.join(', ')} ms) of ${interactiveGoalMs} ms`);
  }
} finally {
  await browser.close();
  stop();
}
if (failures.length) {
  console.error(`payload goals missed:\n  ${failures.join('\n  ')}`);
  if (process.env.PAYLOAD_ENFORCE === '1' || failures.some((f) => f.includes('uncompressed'))) process.exit(1);
}
