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
// Goals (issue 9): the APIs list and the status board at most 250 KB, any page at most 400 KB,
// and interactive within 2 s on Fast 3G. Each figure is printed with its goal. The run fails:
// - when a page is sent uncompressed;
// - when a figure is over its goal, unless `known` below names that page with a ceiling, the
//   figure the app is at today: then it fails only over that ceiling. A goal missed today is
//   printed as MISSED, and a page can only get smaller, never silently bigger. Lower a ceiling
//   when a page shrinks, and remove it once the page meets its goal;
// - with PAYLOAD_STRICT=1, when any goal is missed, known or not.
//
//   TOLLGATE_BIN=... node tests/browser/payload.mjs

import { launch, startServer } from './harness.mjs';

const KB = 1000;
const listGoal = 250 * KB;
const anyGoal = 400 * KB;
const interactiveGoalMs = 2000;
const goals = { '/apis': listGoal, '/status': listGoal };
// Where the app is today for the goals it misses (see the notes above and the README), with
// about 1.5 KB for what varies between runs and builds (the page's data, its times).
const known = {
  '/apis': 255.5 * KB,
  '/status': 254 * KB,
  '/apis/new': 405 * KB,
  '/apis/payments/payments-api/edit': 405.5 * KB,
  '/yaml/ApiDefinition/payments/payments-api': 480.5 * KB,
  'interactive /apis': 3000,
  'interactive /status': 3000,
};
const strict = process.env.PAYLOAD_STRICT === '1';
const failures = [];
const missed = [];
/// Checks one figure against its goal and, for a known miss, its ceiling.
function check(name, value, goal, unit) {
  if (value <= goal) return 'ok    ';
  const ceiling = known[name];
  const said = `${name}: ${unit(value)} > goal ${unit(goal)}`;
  if (ceiling === undefined) {
    failures.push(`${said} (a new miss)`);
    return 'OVER  ';
  }
  if (value > ceiling) {
    failures.push(`${said} and over its ceiling ${unit(ceiling)}: it grew`);
    return 'GREW  ';
  }
  missed.push(`${said} (known; ceiling ${unit(ceiling)})`);
  return 'MISSED';
}
const kb = (n) => `${(n / KB).toFixed(1)} KB`;
const ms = (n) => `${n} ms`;
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
    const verdict = check(path, total, goal, kb);
    const parts = code.map((r) => `${new URL(r.url).pathname.split('/').pop() || 'html'} ${(r.bytes / KB).toFixed(1)}`);
    console.log(`${verdict} ${path}: ${(total / KB).toFixed(1)} KB of ${goal / KB} KB (+${(dataBytes / KB).toFixed(1)} KB of API data) — ${parts.join(', ')}`);
  }

  console.log('Time to interactive on Fast 3G (562.5 ms latency, 1.44 Mbit/s down):');
  for (const path of ['/apis', '/status']) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await load(browser, path, fast3g)).interactiveMs);
    const median = runs.sort((a, b) => a - b)[1];
    const verdict = check(`interactive ${path}`, median, interactiveGoalMs, ms);
    console.log(`${verdict} ${path}: interactive in ${median} ms (median of ${runs.join(', ')} ms) of ${interactiveGoalMs} ms`);
  }
} finally {
  await browser.close();
  stop();
}
if (missed.length) console.log(`payload goals still missed (known):\n  ${missed.join('\n  ')}`);
if (failures.length || (strict && missed.length)) {
  console.error(`payload check failed:\n  ${[...failures, ...(strict ? missed : [])].join('\n  ')}`);
  process.exit(1);
}
console.log('payload check passed: no page over its goal or its known ceiling');
