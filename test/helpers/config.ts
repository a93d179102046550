import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { PG_URL, REDIS_URL } from './services.ts';

export interface TestConfigOptions {
  tenant: string;
  /** Ledger schema and Redis prefix, unique per test file. */
  name: string;
  smtp?: string;
  outbox?: string;
  audiences?: Record<string, unknown>;
  schedules: Record<string, unknown>;
  launch?: string;
  retry?: { attempts: number; backoff: string };
  /** More top-level sections (inbound, deputies …). */
  extra?: Record<string, unknown>;
}

/** Writes a config file for a test into a fresh temp folder and returns its path. */
export function writeTestConfig(o: TestConfigOptions): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'crier-test-'));
  const file = path.join(dir, 'crier.yaml');
  const config = {
    platform: { kind: 'govocal', database: PG_URL, tenant: o.tenant, ...(o.launch ? { launch: o.launch } : {}) },
    crier: { database: PG_URL, schema: o.name, redis: REDIS_URL, prefix: o.name, retry: o.retry ?? { attempts: 3, backoff: 'PT0.2S' } },
    mail: { from: 'Participatie Test <participatie@example.org>', transport: o.smtp ? 'smtp' : 'outbox', outbox: o.outbox ?? path.join(dir, 'outbox'), ...(o.smtp ? { smtp: o.smtp } : {}) },
    audiences: o.audiences ?? {
      council: [
        { name: 'Mathias De Clercq', email: 'Burgemeester@example.org', locale: 'nl-BE' },
        { name: 'Claire Dubois', email: 'claire@example.org', locale: 'fr-BE' },
        { name: 'Anna Schmidt', email: 'anna@example.org', locale: 'de-DE' },
      ],
      steering: [{ name: 'Mathias again', email: 'burgemeester@EXAMPLE.org' }],
    },
    schedules: o.schedules,
    ...o.extra,
  };
  writeFileSync(file, stringify(config));
  return file;
}
