// The payload report: what the first load of each page ships on the wire, as a browser asking
// `Accept-Encoding: br, gzip` receives it (HTML, then the stylesheet, script and wasm the page
// links). Prints the figures against the goals: the APIs list and the status board at most
// 250 KB in all, any page at most 400 KB. With PAYLOAD_ENFORCE=1 a missed goal fails the run.
//
//   TOLLGATE_BIN=... node tests/browser/payload.mjs

import http from 'node:http';
import { startServer } from './harness.mjs';

const KB = 1000;
const goals = { '/apis': 250 * KB, '/status': 250 * KB };
const anyPage = 400 * KB;
const pages = ['/apis', '/status', '/apis/payments/payments-api', '/apis/new', '/policies/new', '/changes', '/problems'];

const { base, stop } = await startServer();
const url = new URL(base);

/// Bytes on the wire (the encoded body) and the decoded text when it is text.
function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, bytes: body.length, encoding: res.headers['content-encoding'] ?? 'identity', body, cache: res.headers['cache-control'] });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function decode(r) {
  const zlib = await import('node:zlib');
  if (r.encoding === 'br') return zlib.brotliDecompressSync(r.body).toString();
  if (r.encoding === 'gzip') return zlib.gunzipSync(r.body).toString();
  return r.body.toString();
}

let missed = [];
try {
  const seen = new Map();
  for (const page of pages) {
    const html = await get(page);
    const text = await decode(html);
    const links = [...text.matchAll(/(?:href|src)="(\/(?:pkg|assets)\/[^"]+)"/g)].map((m) => m[1]);
    let total = html.bytes;
    const parts = [`html ${html.bytes} (${html.encoding})`];
    for (const link of new Set(links)) {
      if (link.endsWith('.svg')) continue;
      if (!seen.has(link)) seen.set(link, await get(link));
      const r = seen.get(link);
      total += r.bytes;
      parts.push(`${link.split('/').pop()} ${r.bytes} (${r.encoding}, ${r.cache})`);
    }
    const goal = goals[page] ?? anyPage;
    const ok = total <= goal;
    if (!ok) missed.push(`${page}: ${total} > ${goal}`);
    console.log(`${ok ? 'ok    ' : 'MISSED'} ${page}: ${(total / KB).toFixed(1)} KB of ${goal / KB} KB — ${parts.join(', ')}`);
  }
} finally {
  stop();
}
if (missed.length && process.env.PAYLOAD_ENFORCE === '1') {
  console.error(`payload goals missed: ${missed.join('; ')}`);
  process.exit(1);
}
