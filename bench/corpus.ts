/*
 * The runs the render benchmark (bench/render.ts) measures: every schedule of the shipped demo
 * config, each send its next occurrence plans (the latest when none is ahead: the invitation
 * and the agenda of a meeting, a project call's call, reminders and overview), prepared the way
 * a run is (prepareRun: its period, its audience and its JSON snapshot) on a demo tenant of its
 * own, and a varied set of recipients for each: the audience's own (with their folder and project
 * scopes and copies), and copies of them in every catalogue language under other names.
 */
import { DateTime, type Interval } from 'luxon';
import { loadConfig, type CrierConfig } from '../src/config/load.ts';
import { addressOf, senderName } from '../src/config/addresses.ts';
import type { RenderInput } from '../src/delivery/message.ts';
import { unsubscribeUrl } from '../src/delivery/unsubscribe.ts';
import { Crier } from '../src/deployment/deployment.ts';
import type { Schedule } from '../src/deployment/schedules.ts';
import { prepareRun } from '../src/delivery/prepare.ts';
import { ensureDemoTenant } from '../src/cli/demo.ts';
import { loadJobKinds } from '../src/job-registry.ts';
import type { JobKind, PlannedRun, Recipient } from '../src/kit/contract.ts';
import { createLogger } from '../src/log.ts';
import type { PlatformInfo } from '../src/platform/platform.ts';
import { loadCatalogues } from '../src/render/catalog.ts';
import { previousOccurrence } from '../src/schedule/occurrences.ts';
import { runsOfOccurrence } from '../src/schedule/plan.ts';

/** One send of one schedule, prepared: what renderMessage needs besides the recipient. */
export interface CorpusRun {
  schedule: Schedule;
  job: JobKind;
  planned: PlannedRun;
  period: Interval<true>;
  /** The run's JSON snapshot, as the ledger keeps it. */
  data: unknown;
  audience: Recipient[];
  platform: PlatformInfo;
  /** Varied recipients: the audience's own, and copies in every catalogue language under other names. */
  recipients: Recipient[];
}

const NAMES = ['Mathias De Clercq', 'Claire Dubois-Lefèvre', 'Jürgen Müller', 'Nadia El Idrissi', 'Anne-Sophie "Annie" O\'Neil & co', 'Wim Claeys', 'Fatma Yılmaz', 'Pieter-Jan Van den Broeck'];

/**
 * Prepares the corpus on the demo tenant `tenant` (created on first use, kept afterwards), with
 * the ledger (project-call rounds are read from it) in `schema`, reading the platform once per
 * send, at `now` (default: the clock).
 */
export async function renderCorpus(opts: { tenant?: string; schema?: string; now?: DateTime; perLocale?: number } = {}): Promise<{ runs: CorpusRun[]; config: CrierConfig; close(): Promise<void> }> {
  const jobs = await loadJobKinds();
  const shipped = loadConfig('config/crier.yaml', { jobs });
  const config = {
    ...shipped,
    platform: { ...shipped.platform, tenant: opts.tenant ?? process.env.BENCH_TENANT ?? 'bench.crier.local', demo: true },
    crier: { ...shipped.crier, schema: opts.schema ?? process.env.BENCH_SCHEMA ?? 'crier_bench_render' },
  };
  const now = opts.now ?? DateTime.now();
  const crier = new Crier(config, jobs, { logger: createLogger(), now: () => now.toJSDate() });
  await ensureDemoTenant(crier);
  await crier.ledger.migrate();
  const book = await crier.schedules();
  const platform = (await crier.platform()).info;
  const deps = { platform: () => crier.platform(), schedules: async () => book, config: crier.config, now: crier.now, rounds: crier.rounds };
  const locales = [...loadCatalogues().keys()].sort();
  const runs: CorpusRun[] = [];
  const seen = new Set<string>();
  for (const schedule of book.all) {
    // council-demo is council-quarterly again, every 15 minutes.
    if (seen.has(schedule.job) && schedule.id.endsWith('-demo')) continue;
    seen.add(schedule.job);
    const job = book.job(schedule.job);
    const next = book.nextRuns(schedule, now, 20)[0]?.occurrence ?? previousOccurrence(schedule.triggers, now);
    if (!next) continue;
    for (const planned of runsOfOccurrence(job, schedule, next, now)) {
      const { period, data, audience } = await prepareRun(deps, schedule, planned);
      runs.push({ schedule, job, planned, period, data, audience, platform, recipients: variedRecipients(audience, locales, opts.perLocale ?? 2) });
    }
  }
  return { runs, config: crier.config, close: () => crier.close() };
}

/**
 * The audience's own recipients, then for each catalogue language `perLocale` copies of audience
 * members (their scope and copy kept, cycling through the audience) under other names.
 */
export function variedRecipients(audience: Recipient[], locales: string[], perLocale: number): Recipient[] {
  const base = audience.length ? audience : [{ email: 'someone@example.org', name: 'Someone', locale: 'en' }];
  const out: Recipient[] = audience.map((r) => ({ ...r }));
  let n = 0;
  for (const locale of locales) {
    for (let i = 0; i < perLocale; i++, n++) {
      const r = base[n % base.length];
      out.push({ ...r, email: `r${n}.${r.email}`, name: NAMES[n % NAMES.length], locale });
    }
  }
  return out;
}

/**
 * What composeMessage (src/delivery/compose.ts) gives renderMessage for this recipient of this
 * run, with `data` as the run's snapshot; the one-click link is signed here, before any timing.
 */
export function renderInputFor(config: CrierConfig, run: CorpusRun, recipient: Recipient, data: unknown): RenderInput {
  const { mail, organization, http } = config;
  const replyTo = mail.replyTo ?? addressOf(mail.from);
  const required = run.schedule.unsubscribe === 'none';
  const url = !required && http?.secrets && http.publicUrl ? unsubscribeUrl(http.publicUrl, http.secrets, { email: recipient.email, schedule: run.schedule.id, job: run.schedule.job, locale: recipient.locale }) : undefined;
  return {
    job: run.job,
    data,
    recipient,
    platform: run.platform,
    period: run.period,
    timezone: run.schedule.timezone,
    run: { occurrence: run.planned.occurrence, variant: run.planned.variant, meta: run.planned.meta },
    sender: { name: senderName(mail.from), address: addressOf(mail.from) },
    organizationName: organization.name,
    color: organization.color,
    replyTo,
    unsubscribe: { url, required },
  };
}
