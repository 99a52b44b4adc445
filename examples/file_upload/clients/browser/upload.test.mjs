// The upload page in a real browser: Debian's Chromium, headless, driven by
// playwright-core. Picks a file for the multipart form and one for the tus
// upload (the page's vendored tus-js-client), and checks that both are
// listed on the page with their size and SHA-256.
//
// Run: npm ci && npm test   (SERVER_BIN: the server binary, built by
// ../browser.sh; CHROMIUM: the browser, /usr/bin/chromium by default;
// SCREENSHOT: a path to save the final page as PNG).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const sha256 = buf => createHash('sha256').update(buf).digest('hex');
let server, browser, base, work;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'intake-browser-'));
  server = spawn(process.env.SERVER_BIN, ['serve', '--listen', '127.0.0.1:0', '--dir', join(work, 'uploads')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).once('line', resolve);
    server.once('exit', code => reject(new Error(`server exited: ${code}`)));
  });
  base = 'http://' + first.replace('listening on ', '');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'], // CI runs as root
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
  rmSync(work, { recursive: true, force: true });
});

test('the vendored tus.min.js is tus-js-client 4.3.1, unchanged', () => {
  const vendored = readFileSync(join(here, '../../assets/tus.min.js'));
  const upstream = readFileSync(join(here, 'node_modules/tus-js-client/dist/tus.min.js'));
  assert.equal(sha256(vendored), sha256(upstream));
});

test('form upload and tus upload from the page, listed with size and SHA-256', async () => {
  const page = await browser.newPage();
  page.on('pageerror', e => assert.fail(`page error: ${e}`));
  await page.goto(base + '/');

  // The multipart form: the browser builds the body, the server answers
  // 201 with JSON.
  const formFile = { name: 'from-form.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from a form\n'.repeat(5000)) };
  await page.setInputFiles('#file', formFile);
  const [answer] = await Promise.all([page.waitForNavigation(), page.click('#form-submit')]);
  assert.equal(answer.status(), 201);
  const stored = JSON.parse(await answer.text());
  assert.deepEqual(stored, [{ name: 'from-form.txt', size: formFile.buffer.length, sha256: sha256(formFile.buffer) }]);

  // tus: 20 MiB in 8 MiB PATCHes, with the progress bar moving to 100.
  await page.goto(base + '/');
  const tusFile = { name: 'from-tus.bin', mimeType: 'application/octet-stream', buffer: randomBytes(20 << 20) };
  await page.setInputFiles('#tus-file', tusFile);
  await page.click('#tus-upload');
  await page.waitForFunction(() => document.getElementById('tus-status').textContent.startsWith('done'), null, { timeout: 60_000 });
  assert.equal(await page.$eval('#progress', p => p.value), 100);

  // Both are listed on the page with their size and SHA-256.
  await page.waitForSelector('#files tr[data-name="from-tus.bin"]');
  const rows = await page.$$eval('#files tr', trs => trs.map(tr => [...tr.children].map(td => td.textContent)));
  assert.deepEqual(rows, [
    ['from-form.txt', String(formFile.buffer.length), sha256(formFile.buffer)],
    ['from-tus.bin', String(tusFile.buffer.length), sha256(tusFile.buffer)],
  ]);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
});
