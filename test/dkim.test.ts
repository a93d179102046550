import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth';
import { crier as cli } from './helpers/cli.ts';
import { writeTestConfig } from './helpers/config.ts';
import { dropRedisPrefix, uniqueName } from './helpers/services.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { createTenant } from './helpers/tenant.ts';

/*
 * DKIM as a receiving mail server checks it: a key made here, its public half served by a DNS
 * resolver of the test's own, a real run through the SMTP transport to a real SMTP server, and
 * the message it received verified by mailauth, with both List-Unsubscribe headers signed.
 */
const name = uniqueName('crier_dkim');
const host = `${name.replace(/_/g, '-')}.crier.test`;
const DOMAIN = 'example.org';
const SELECTOR = 'crier2027';

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
/** The TXT record a city publishes at SELECTOR._domainkey.DOMAIN: the public key, base64 DER without the PEM armour. */
const TXT = `v=DKIM1; k=rsa; p=${publicKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')}`;

/** DNS as the receiving server would see it: only the key record exists. */
async function resolver(domain: string, rrtype: string): Promise<string[][]> {
  if (rrtype === 'TXT' && domain.toLowerCase() === `${SELECTOR}._domainkey.${DOMAIN}`) return [[TXT]];
  throw Object.assign(new Error(`queryTxt ENOTFOUND ${domain}`), { code: 'ENOTFOUND' });
}

let tenant: Awaited<ReturnType<typeof createTenant>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let configFile: string;

beforeAll(async () => {
  tenant = await createTenant(host);
  smtp = await startSmtpServer();
  configFile = writeTestConfig({
    tenant: host,
    name,
    schedules: {
      'council-signed': { job: 'council-update', audience: 'council', dates: ['2027-02-01 09:00'], timezone: 'Europe/Brussels' },
    },
    extra: {
      mail: { from: 'Participatie Test <participatie@example.org>', transport: 'smtp', smtp: smtp.url, dkim: { domain: DOMAIN, selector: SELECTOR, privateKey } },
      // One-click unsubscribe, so every message has List-Unsubscribe-Post to sign.
      http: { publicUrl: 'https://crier.test', secrets: ['a-test-secret-of-16+chars'] },
    },
  });
}, 60_000);

afterAll(async () => {
  await smtp?.close();
  await tenant?.drop();
  await dropRedisPrefix(name);
});

describe('DKIM', () => {
  it('signs every e-mail so that a receiving server verifies it, List-Unsubscribe and List-Unsubscribe-Post included', async () => {
    const res = await cli(['run', 'council-signed', '--at', '2027-02-01T09:00', '--wait', '--json', '--config', configFile]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).deliveries).toMatchObject({ sent: 3, failed: 0 });
    expect(smtp.received).toHaveLength(3);
    for (const m of smtp.received) {
      expect(m.raw).toMatch(/^List-Unsubscribe:\s+<https:\/\/crier\.test\/u\//m);
      expect(m.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
      const result = await dkimVerify(Buffer.from(m.raw), { resolver });
      expect(result.results).toHaveLength(1);
      const [signature] = result.results;
      expect(signature.status.result, JSON.stringify(signature.status)).toBe('pass');
      expect(signature).toMatchObject({ signingDomain: DOMAIN, selector: SELECTOR });
      // The h= tag of the signature: the headers it covers.
      const header = /^DKIM-Signature:(.*(?:\r?\n[ \t].*)*)/im.exec(m.raw)![1].replace(/\s+/g, '');
      const signed = /(?:^|;)h=([^;]+)/.exec(header)![1].toLowerCase().split(':');
      expect(signed).toEqual(expect.arrayContaining(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post']));
    }
  });

  it('fails verification once a signed header is altered (the check is real)', async () => {
    const m = smtp.received[0];
    const altered = m.raw.replace(/^(List-Unsubscribe:\s+<https:\/\/crier\.test\/u\/)/m, '$1x');
    expect(altered).not.toBe(m.raw);
    const [signature] = (await dkimVerify(Buffer.from(altered), { resolver })).results;
    expect(signature.status.result).toBe('fail');
  });

  it('refuses a privateKeyFile that does not exist, with file, line and field', async () => {
    const file = writeTestConfig({
      tenant: host,
      name: uniqueName('crier_dkim_cfg'),
      schedules: { council: { job: 'council-update', audience: 'council', cron: '0 9 1 1,4,7,10 *' } },
      extra: { mail: { from: 'Participatie Test <participatie@example.org>', dkim: { domain: DOMAIN, selector: SELECTOR, privateKeyFile: 'keys/missing.pem' } } },
    });
    const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('privateKeyFile:')) + 1;
    expect(line).toBeGreaterThan(0);
    const checked = await cli(['check', '--json', '--config', file]);
    expect(checked.code, checked.stderr + checked.stdout).toBe(2);
    const out = JSON.parse(checked.stdout);
    expect(out.ok).toBe(false);
    expect(out.errors).toEqual([
      expect.objectContaining({ file: expect.stringContaining('crier.yaml'), line, path: 'mail.dkim.privateKeyFile', message: expect.stringContaining("no file 'keys/missing.pem'") }),
    ]);
  });
});
