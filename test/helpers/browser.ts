import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { expect } from 'vitest';

/*
 * Debian's Chromium, driven by playwright-core (which downloads no browser of its own). Without
 * the background-networking flags, Chromium's own connections are refused by this closed
 * network, many at a time.
 */

const executablePath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium for pages without state between them (screenshots of e-mails). */
export function launchChromium(): Promise<Browser> {
  expect(existsSync(executablePath()), 'chromium is not installed: apt-get install chromium').toBe(true);
  return chromium.launch({ executablePath: executablePath(), args: ARGS });
}

/**
 * A headless Chromium with a profile of its own (a user's cookies, as a logged-in superadmin
 * has them). `close` closes it, then removes the profile: Chromium writes to it until it closes.
 */
export async function openProfile(name: string): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  expect(existsSync(executablePath()), 'chromium is not installed: apt-get install chromium').toBe(true);
  const profile = mkdtempSync(path.join(tmpdir(), `crier-${name}-chromium-`));
  const context = await chromium.launchPersistentContext(profile, { executablePath: executablePath(), headless: true, args: ARGS });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
