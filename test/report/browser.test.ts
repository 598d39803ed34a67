/**
 * report.html in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) opens the report of a real run, with every request that is not
 * to a local file refused and recorded. No console error, the key elements there,
 * the inline script ran, and a screenshot that is not blank.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mono } from '../cli/harness.js';
import { skipWithoutComponent } from '../support/components.js';
import { tinyCliPlan } from '../support/tiny-plans.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = skipWithoutComponent('chromium', existsSync(CHROMIUM), `no ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const PLAN = tinyCliPlan('browser');

/**
 * Distinct colours of a PNG, counted by the browser itself (a canvas decodes it). The
 * function is text: it runs in the page, and this project's TypeScript has no DOM types.
 */
async function distinctColours(page: Page, png: Buffer): Promise<number> {
  await page.setContent('<canvas id="c"></canvas>');
  return page.evaluate<number>(`(async () => {
    const image = new Image();
    image.src = 'data:image/png;base64,${png.toString('base64')}';
    await image.decode();
    const canvas = document.getElementById('c');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const pixels = new Uint32Array(context.getImageData(0, 0, image.width, image.height).data.buffer);
    return new Set(pixels).size;
  })()`);
}

describe.skipIf(skip)('report.html in headless Chromium', () => {
  let root: string;
  let browser: Browser;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'mono-report-browser-'));
    await writeFile(path.join(root, 'browser.mono'), PLAN);
    const run = await mono(['run', 'browser.mono', '--out', 'r', '--backend', 'cpu'], { cwd: root });
    expect(run.code, run.stderr).toBe(0);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('opens the report of a real run without errors or requests off the file, with every key element and a picture', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    const offFile: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      offFile.push(url);
      return route.abort();
    });
    const report = path.join(root, 'r', 'report.html');
    await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });

    expect(errors).toEqual([]);
    expect(offFile).toEqual([]);
    expect(await page.title()).toBe('mono run r');
    // The inline script ran (it reads the embedded JSON).
    expect(await page.getAttribute('html', 'data-epochs-done')).toBe('3');
    expect(await page.locator('header').innerText()).toContain('3 of 3 epochs done · finished');
    // Loss, accuracy, lr, momentum, MI, ms per step, examples/s: drawn with a size.
    const charts = page.locator('#curves figure.chart svg');
    expect(await charts.count()).toBe(7);
    const box = await charts.first().boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(150);
    expect(await page.locator('#network g.partition').count()).toBe(2);
    expect(await page.locator('#network g.head').count()).toBe(1);
    expect(await page.locator('#timeline g.phase').count()).toBe(2);
    expect(await page.locator('table.confusion tbody tr').count()).toBe(3);
    expect(await page.locator('#plan table.phases tbody tr').count()).toBe(2);
    // Every file link resolves to a file of the run folder.
    const links: string[] = [];
    for (const anchor of await page.locator('#files a').all()) links.push(new URL((await anchor.getAttribute('href'))!, page.url()).href);
    expect(links.map((href) => path.basename(fileURLToPath(href)))).toEqual(expect.arrayContaining(['metrics.csv', 'metrics.jsonl', 'checkpoint.bin', 'report.html']));
    for (const href of links) expect(existsSync(fileURLToPath(href)), href).toBe(true);

    const shot = await page.screenshot();
    // The counter tells a blank page (one colour) from the report.
    const counter = await browser.newPage();
    await counter.setContent('<body style="background:#fff"></body>');
    const white = await counter.screenshot();
    expect(await distinctColours(counter, white)).toBe(1);
    // Charts, text and shaded bands: antialiasing alone gives hundreds.
    expect(await distinctColours(counter, shot)).toBeGreaterThan(100);
    await counter.close();
    await page.close();
  }, 120_000);
});
