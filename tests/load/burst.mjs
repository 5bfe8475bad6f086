// Load check: a burst of N simultaneous new connections (default 200), each asking /healthz and
// /api/v1/repo once, against a `tollgate demo` on loopback. Prints p50/p99/max latency. Bounded:
// N requests per path, loopback only.
//
//   TOLLGATE_BIN=target/release/tollgate node tests/load/burst.mjs [N]

import http from 'node:http';
import { startServer } from '../browser/harness.mjs';

const n = Number(process.argv[2] ?? 200);
const { base, stop } = await startServer();
const url = new URL(base);

function once(path) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request({ host: url.hostname, port: url.port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
try {
  for (const path of ['/healthz', '/api/v1/repo']) {
    await once(path); // warm
    const results = await Promise.all(Array.from({ length: n }, () => once(path)));
    const failed = results.filter((r) => r.status !== 200).length;
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    console.log(`${path}: ${n} simultaneous connections, ${failed} failed, p50 ${pct(ms, 0.5).toFixed(1)} ms, p99 ${pct(ms, 0.99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`);
  }
} finally {
  stop();
}
