// Shared by the browser tests: start `tollgate demo` on a free loopback port with a fresh data
// folder, and launch Debian's Chromium through playwright-core.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const here = path.dirname(new URL(import.meta.url).pathname);
export const output = path.join(here, 'output');
mkdirSync(output, { recursive: true });

export async function startServer(extraArgs = [], extraEnv = {}) {
  const bin = process.env.TOLLGATE_BIN;
  if (!bin) throw new Error('TOLLGATE_BIN must point at the tollgate binary');
  const data = mkdtempSync(path.join(tmpdir(), 'tollgate-browser-'));
  const server = spawn(bin, ['demo', '--data-dir', data, ...extraArgs], {
    env: { ...process.env, TOLLGATE__SERVER__BIND: '127.0.0.1:0', TOLLGATE_LOG: 'warn', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 30 s')), 30_000);
    let buffer = '';
    server.stdout.on('data', (chunk) => {
      buffer += chunk;
      const m = buffer.match(/running at (http:\/\/[0-9.:]+)\//);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try { if ((await fetch(`${base}/readyz`)).ok) break; } catch {}
    if (Date.now() > deadline) throw new Error('server not ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    stop() {
      server.kill('SIGINT');
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

/// Replaces the text of the YAML editor page (CodeMirror over `#yaml-text`) as a user would:
/// select all, then type the new text in one go.
export async function fillYaml(page, text) {
  await page.waitForSelector('.yaml-editor-host .cm-content');
  await page.locator('.yaml-editor-host .cm-content').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(text);
  await page.waitForFunction((t) => document.querySelector('#yaml-text').value === t, text, { timeout: 5000 })
    .catch(async (e) => { console.log(JSON.stringify(await page.locator('#yaml-text').inputValue()), JSON.stringify(text)); throw e; });
}
