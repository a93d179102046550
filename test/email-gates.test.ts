import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleryEntry } from '../src/cli/gallery.ts';
import { pgConfig } from '../src/db.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import { loadCatalogues } from '../src/render/catalog.ts';
import { crier } from './helpers/cli.ts';
import { PG_URL, uniqueName } from './helpers/services.ts';
import { launchChromium } from './helpers/browser.ts';

/*
 * Quality gates on every e-mail Crier sends: every job kind in jobs/ × language, through the
 * shipped demo config (a kind it does not schedule by its own example schedule), rendered with
 * the generated demo tenant's data through `crier preview --all`, is
 * checked for size, language, preheader, alt text and plain text, scored by SpamAssassin
 * (local tests), and rendered in headless Chromium at phone and desktop widths. Screenshots go
 * to test-output/screenshots/ for a person to look at.
 */
const name = uniqueName('crier_gates');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const dir = mkdtempSync(path.join(tmpdir(), 'crier-gates-'));
const SCREENSHOTS = path.resolve('test-output/screenshots');
const GMAIL_CLIP_BYTES = 102 * 1024;
let entries: GalleryEntry[] = [];
let index = '';
let browser: Browser;

beforeAll(async () => {
  const file = path.join(dir, 'crier.yaml');
  writeFileSync(file, readFileSync('config/crier.yaml', 'utf8').replace('tenant: demo.crier.local', `tenant: ${host}`));
  const res = await crier(['preview', '--all', '--json', '--out', path.join(dir, 'gallery'), '--config', file], {}, dir);
  expect(res.stderr).toBe('');
  ({ entries, index } = JSON.parse(res.stdout));
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  const client = new pg.Client(pgConfig(PG_URL));
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(host.replace(/\./g, '_'))} CASCADE`);
  await client.end();
});

// Every job kind in jobs/, shipped or added, and every catalogue language: nothing to edit here
// when a kind or a language is added.
const kinds = [...(await loadJobKinds()).keys()];
const locales = [...loadCatalogues().keys()].sort();

describe('every job kind × language', () => {
  it('is in the gallery, with an index.html linking each', () => {
    for (const kind of kinds) for (const locale of locales) expect(entries.some((e) => e.job === kind && e.locale === locale), `${kind} ${locale}`).toBe(true);
    const html = readFileSync(index, 'utf8');
    for (const e of entries) expect(html).toContain(`href="${path.relative(path.dirname(index), e.files.html)}"`);
  });

  it('stays under Gmail’s 102 KB clipping, says its language, has a preheader, alt text on every image and a plain-text part', () => {
    for (const e of entries) {
      const where = `${e.schedule} ${e.variant} ${e.locale}`;
      const html = readFileSync(e.files.html, 'utf8');
      const text = readFileSync(e.files.text, 'utf8');
      expect(e.htmlBytes, where).toBeLessThanOrEqual(GMAIL_CLIP_BYTES);
      expect(html, where).toContain(`<html lang="${e.locale}"`);
      const preheader = /<div class="preheader"[^>]*>([^<]*)</.exec(html)?.[1].replace(/[\u200b\u200c]|&#820[34];/g, '').trim();
      expect(preheader, where).toBeTruthy();
      for (const img of html.match(/<img\b[^>]*>/g) ?? []) expect(img, where).toMatch(/\balt="[^"]+"/);
      expect(text.length, where).toBeGreaterThan(200);
      expect(text, where).toMatch(/https:\/\//); // links are kept
      expect(text, where).not.toMatch(/<\/?(td|div|span|table)\b/); // no markup leaks into it
      expect(readFileSync(e.files.eml, 'utf8'), where).toMatch(/Content-Type: text\/plain; charset=utf-8/);
    }
  });

  it('scores at most 1.0 in SpamAssassin (local tests)', () => {
    for (const e of entries) {
      expect(e.spam, 'spamassassin is not installed: .ci/run installs it (apt-get install spamassassin)').not.toBeNull();
      expect(e.spam!.score, `${e.schedule} ${e.variant} ${e.locale}: ${e.spam!.rules.join(', ')}`).toBeLessThanOrEqual(1.0);
    }
  });

  it('renders at 375 px and 600 px with no horizontal overflow and no missing images', async () => {
    const page = await browser.newPage();
    for (const e of entries) {
      for (const width of [375, 600]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(pathToFileURL(e.files.html).href, { waitUntil: 'load' });
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          wide: [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1).map((el) => `${el.tagName}.${el.className}`).slice(0, 5),
          brokenImages: [...document.images].filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src),
        }));
        const where = `${e.schedule} ${e.variant} ${e.locale} at ${width}px`;
        expect(layout.scrollWidth, `${where}: ${layout.wide.join(', ')}`).toBeLessThanOrEqual(layout.innerWidth);
        expect(layout.brokenImages, where).toEqual([]);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${path.basename(e.files.html, '.html')}-${width}.png`), fullPage: true });
      }
    }
    await page.close();
  }, 180_000);
});
