import { z } from 'zod';
import { Duration } from 'luxon';
import { CronError, parseCron } from '../schedule/cron.ts';
import { parseLocalDateTime } from '../schedule/occurrences.ts';
import { isKnownZone } from '../schedule/wallclock.ts';
import { WEEKDAYS } from '../schedule/window.ts';
import { redact } from '../redact.ts';

/*
 * The config file's shape. Custom checks report `params.offset` (an offset inside the string)
 * when they know which character is wrong, so the error points at it.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lower-case letters, digits and dashes, e.g. council-quarterly');

export const localDate = z.string().superRefine((s, ctx) => {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s) {
    ctx.addIssue({ code: 'custom', message: `'${s}' is not a local date; write YYYY-MM-DD, e.g. 2026-03-02` });
  }
});

export const isoDuration = z.string().superRefine((s, ctx) => {
  const d = Duration.fromISO(s);
  if (!d.isValid) ctx.addIssue({ code: 'custom', message: `'${s}' is not an ISO-8601 duration; write e.g. P0D, P1W, P1M, P3M, PT12H` });
  else if (d.toMillis() < 0) ctx.addIssue({ code: 'custom', message: `'${s}' is negative; durations here count forward` });
});

export const timeZone = z.string().superRefine((s, ctx) => {
  if (!isKnownZone(s)) ctx.addIssue({ code: 'custom', message: `'${s}' is not an IANA time zone; write e.g. Europe/Brussels, America/Santiago, Australia/Sydney` });
});

const cronExpression = z.string().superRefine((s, ctx) => {
  try {
    parseCron(s);
  } catch (e) {
    if (!(e instanceof CronError)) throw e;
    ctx.addIssue({ code: 'custom', message: e.message, params: { offset: e.offset } });
  }
});

export const localDateTime = z.string().superRefine((s, ctx) => {
  try {
    parseLocalDateTime(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "write a local time as HH:mm, e.g. '09:00'");
const email = z.email({ error: (i) => `'${String(i.input)}' is not an e-mail address` });
const url = (schemes: string[], example: string) =>
  z.string().superRefine((s, ctx) => {
    let ok = false;
    try {
      ok = schemes.includes(new URL(s).protocol.replace(/:$/, ''));
    } catch {
      ok = false;
    }
    if (!ok) ctx.addIssue({ code: 'custom', message: `'${redact(s)}' is not a ${schemes.join(' or ')} URL; write e.g. ${example}` });
  });
const locale = z.string().superRefine((s, ctx) => {
  try {
    if (Intl.getCanonicalLocales(s).length === 1) return;
  } catch {
    /* reported below */
  }
  ctx.addIssue({ code: 'custom', message: `'${s}' is not a locale; write a BCP 47 tag such as nl-BE, fr-BE, de-DE or en` });
});


/**
 * When e-mail may go out, in the schedule's zone: a send planned outside moves to the next
 * opening (`crier check` shows the moved time), and a scheduled delivery retried outside waits
 * for it (what a person starts, `crier run`, is not held).
 */
export const sendWindowSchema = z
  .strictObject({
    /** Weekdays mail may go out (default MON–FRI). */
    days: z
      .array(z.enum(WEEKDAYS, { error: (i) => `'${String(i.input)}' is not a weekday; use ${WEEKDAYS.join(', ')}` }))
      .min(1, 'name at least one weekday, e.g. [MON, TUE, WED, THU, FRI]')
      .default(['MON', 'TUE', 'WED', 'THU', 'FRI']),
    /** Local time the window opens (default 08:00). */
    from: hhmm.default('08:00'),
    /** Local time the window closes (default 18:00); a send at or after it waits for the next opening. */
    to: hhmm.default('18:00'),
    /** Closed dates (public holidays), local YYYY-MM-DD. */
    holidays: z.array(localDate).default([]),
  })
  .superRefine((w, ctx) => {
    if (w.from >= w.to) ctx.addIssue({ code: 'custom', path: ['to'], message: `'${w.to}' is not after from '${w.from}'; a window opens and closes on the same day, e.g. from: '08:00', to: '18:00'` });
  });

export type SendWindowConfig = z.output<typeof sendWindowSchema>;

/** Folder or project slugs (or ids) that narrow what an audience entry's e-mail covers. */
const scopeShape = {
  /** Only these folders (slugs or ids). */
  folders: z.array(z.string().min(1)).min(1).optional(),
  /** Only these projects (slugs or ids). */
  projects: z.array(z.string().min(1)).min(1).optional(),
};

/** A person named in the config. */
export const personSchema = z.strictObject({
  /** Shown in the greeting and the To: header. */
  name: z.string().min(1),
  email,
  /** Picks the message catalogue; default: their platform account's locale, else the platform's first. */
  locale: locale.optional(),
  /** Which copy of a message they get, where a job kind has several (launch-check-in: it). */
  copy: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a copy name is lower-case, e.g. it').optional(),
  ...scopeShape,
});

export const PLATFORM_ROLES = ['admin', 'folder-manager', 'project-manager', 'project-reviewer'] as const;

/** Everyone holding a platform role (active accounts only), optionally narrowed to folders or projects. */
export const roleEntrySchema = z.strictObject({
  /**
   * admin | folder-manager (project_folder_moderator) | project-manager (project_moderator, and
   * folder managers for their folders' projects, as the platform derives them) | project-reviewer
   * (admins with project_reviewer: true).
   */
  platformRole: z.enum(PLATFORM_ROLES, { error: (i) => `'${String(i.input)}' is not a platform role; use ${PLATFORM_ROLES.join(', ')}` }),
  /** Include the platform vendor's support staff (accounts at govocal.com, citizenlab.co …); default false. */
  includeVendorStaff: z.boolean().default(false),
  ...scopeShape,
});

/**
 * A list of people in a CSV file (path relative to the config file's folder), one per row
 * under a header of the person keys: email, name, locale, copy, folders, projects (several
 * folders or projects separated by `;`). For audiences of thousands: a YAML list that long is
 * slow to read, a CSV is what an HR system or a spreadsheet exports.
 */
export const csvEntrySchema = z.strictObject({
  csv: z.string().regex(/\.csv$/i, 'write the path of a .csv file, relative to the config file, e.g. people/staff.csv'),
});

/** The columns a CSV audience file may have (the keys of a person). */
export const CSV_COLUMNS = Object.keys(personSchema.shape);

/** An audience entry: a person, a platform role or a CSV file of people; told by `platformRole` or `csv`. */
export const audienceEntrySchema = z.unknown().transform((value, ctx) => {
  const schema = value && typeof value === 'object' && 'platformRole' in value ? roleEntrySchema : value && typeof value === 'object' && 'csv' in value ? csvEntrySchema : personSchema;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data as z.output<typeof personSchema> | z.output<typeof roleEntrySchema> | z.output<typeof csvEntrySchema>;
  for (const issue of parsed.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (keys.length) {
      for (const key of keys) ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: `unknown key '${key}'; allowed here: ${Object.keys(schema.shape).join(', ')}`, params: { unknownKey: key } });
    } else {
      ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.code === 'invalid_type' && issue.input === undefined ? `is required (${issue.expected})` : issue.message, params: (issue as { params?: unknown }).params as Record<string, unknown> | undefined });
    }
  }
  return z.NEVER;
});

export type AudienceEntry = z.output<typeof audienceEntrySchema>;
export type PersonEntry = z.output<typeof personSchema>;
export type RoleEntry = z.output<typeof roleEntrySchema>;
export type CsvEntry = z.output<typeof csvEntrySchema>;

export const platformSchema = z.strictObject({
  /** The platform's database schema family; only Go Vocal (CitizenLab) for now. */
  kind: z.literal('govocal', { error: () => "the only platform kind is 'govocal' (Go Vocal, formerly CitizenLab)" }),
  /** Read-only connection to the platform's Postgres. */
  database: url(['postgres', 'postgresql'], 'postgres://reader@db.example.org:5432/citizenlab'),
  /** The tenant's host; its schema is the host with '.' replaced by '_'. */
  tenant: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'write the platform host, e.g. participatie.gent.be'),
  /** Local date the platform went live (anchors `afterLaunch`). */
  launch: localDate.optional(),
  /** Public address of the platform, for links (default https://<tenant>). */
  url: url(['https', 'http'], 'https://participatie.gent.be').optional(),
  /** true: create the generated demo tenant when its schema is missing (the shipped demo config only). */
  demo: z.boolean().default(false),
});

export const crierSchema = z.strictObject({
  /** Crier's own Postgres (the ledger). */
  database: url(['postgres', 'postgresql'], 'postgres://crier@127.0.0.1:5432/crier'),
  /** Postgres schema of the ledger tables (default "crier"); one per Crier deployment. */
  schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a schema name is lower-case letters, digits and underscores').default('crier'),
  /** Redis for the BullMQ queues. */
  redis: url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  /** Prefix of every BullMQ key (default "crier"); wrap in {} for Redis Cluster. */
  prefix: z.string().regex(/^[A-Za-z0-9_{}-]+$/, 'letters, digits, -, _ and {} only').default('crier'),
  /** Deliveries sent at once by one worker process, over the pages of 50 it works two at a time (default 5). */
  concurrency: z.number().int().min(1).max(100).default(5),
  /** Temporary send failures (SMTP 4xx, connection errors) are retried this often, backing off exponentially. */
  retry: z
    .strictObject({
      /** Tries in all, the first included (default 5). */
      attempts: z.number().int().min(1).max(50).default(5),
      /** Wait before the first retry, doubling after each (default PT30S). */
      backoff: isoDuration.default('PT30S'),
    })
    .default({ attempts: 5, backoff: 'PT30S' }),
  /** How long SIGTERM waits for sends in flight before it records what is left and exits (default PT30S). */
  shutdownTimeout: isoDuration.default('PT30S'),
  /**
   * How long a claimed delivery stays a worker's without a heartbeat (default PT30S; renewed every
   * third of it): after it, a dead worker's deliveries are sent again, or marked unknown.
   */
  lease: isoDuration.default('PT30S'),
});

export const mailSchema = z.strictObject({
  /** Sender, e.g. "Participatie Gent <participatie@gent.be>". */
  from: z.string().superRefine((s, ctx) => {
    const address = /<([^>]+)>\s*$/.exec(s)?.[1] ?? s;
    if (!z.email().safeParse(address.trim()).success) ctx.addIssue({ code: 'custom', message: `'${s}' has no valid sender address; write "Name <address@example.org>"` });
  }),
  /** Where replies go (default: from). */
  replyTo: email.optional(),
  /** outbox writes .eml/.html files and sends nothing; smtp sends through `smtp`. */
  transport: z.enum(['outbox', 'smtp'], { error: (i) => `'${String(i.input)}' is not a transport; use outbox or smtp` }).default('outbox'),
  /** Folder for the outbox transport (relative to the working directory). */
  outbox: z.string().min(1).default('./outbox'),
  /** smtp://user:pass@host:port (smtps:// for implicit TLS); required for transport smtp. */
  smtp: url(['smtp', 'smtps'], 'smtp://user:pass@smtp.example.org:587').nullish(),
  /** SMTP connections of one worker process. */
  pool: z
    .strictObject({
      maxConnections: z.number().int().min(1).max(50).default(5),
      /** How long to wait for the SMTP server at any step (connect, greeting, a reply) before the try counts as a temporary failure (default PT1M). */
      timeout: isoDuration.default('PT1M'),
      /** Replaced by mail.rateLimit, which holds across every worker process. */
      rateLimit: z.never({ error: () => 'moved: write mail.rateLimit: { max: 10, per: PT1S }, which holds across every worker process' }).optional(),
    })
    .default({ maxConnections: 5, timeout: 'PT1M' }),
  /** At most `max` messages `per` period, across every worker process of the deployment (e.g. { max: 30, per: PT1M }). */
  rateLimit: z
    .strictObject({
      max: z.number().int().min(1),
      per: isoDuration.refine((d) => Duration.fromISO(d).toMillis() >= 1000, { message: 'write a period of at least a second, e.g. PT1S or PT1M' }),
    })
    .optional(),
  /** Messages per day at most (the day of the schedule's time zone); the rest waits for the next day, in order. */
  dailyCap: z.number().int().min(1).optional(),
  /** When e-mail may go out (e.g. working days and hours), unless a schedule has its own `window`. */
  window: sendWindowSchema.optional(),
  /**
   * A run pauses itself once this share of its sends failed permanently (5xx), after at least
   * `after` sends (default { ratio: 0.2, after: 20 }); `crier resume RUN` continues it.
   */
  pauseAt: z
    .strictObject({
      ratio: z.number().gt(0).max(1),
      after: z.number().int().min(1).default(20),
    })
    .default({ ratio: 0.2, after: 20 }),
  /**
   * The envelope sender (Return-Path) bounces come back to, made personal per delivery
   * (VERP: bounces+ID.SIG@domain); default: inbound.address when inbound is set. false: the
   * envelope sender is mail.from (a relay such as Exchange Online that only sends as the
   * authenticated mailbox); bounces are then matched by Message-ID.
   */
  bounces: z.union([z.literal(false), email]).optional(),
  /** DKIM signing: the key from a file or the environment; List-Unsubscribe(-Post) are among the signed headers. */
  dkim: z
    .strictObject({
      /** The signing domain (d=), normally the From address's domain. */
      domain: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'write a domain, e.g. gent.be'),
      /** The DNS selector (s=): the key is published at SELECTOR._domainkey.DOMAIN. */
      selector: z.string().regex(/^[A-Za-z0-9._-]+$/, 'write a selector, e.g. crier2026'),
      /** The PEM private key itself, from the environment: ${CRIER_DKIM_KEY}. */
      privateKey: z.string().includes('PRIVATE KEY', { message: 'is not a PEM private key (-----BEGIN PRIVATE KEY-----)' }).optional(),
      /** Or a file holding it, relative to the config file's folder. */
      privateKeyFile: z.string().min(1).optional(),
    })
    .superRefine((d, ctx) => {
      if (!d.privateKey === !d.privateKeyFile) ctx.addIssue({ code: 'custom', message: 'give the key as privateKey (from the environment) or privateKeyFile, one of the two' });
    })
    .optional(),
});

/** Signing secrets from the environment, newest first: the first signs, every one listed verifies; empty entries (an unset ${VAR:-}) are ignored. */
const secretList = (what: string, example: string) =>
  z
    .array(z.string())
    .transform((list) => list.filter((s) => s !== ''))
    .pipe(z.array(z.string().min(16, `a ${what} secret has at least 16 characters`)).min(1, `give at least one secret, from the environment: ${example}`));

/** A password hash as `crier hash-password` writes it. */
export const PASSWORD_HASH = /^scrypt:(\d{1,8}):(\d{1,3}):(\d{1,3}):([A-Za-z0-9_-]{16,}):([A-Za-z0-9_-]{32,})$/;
/** A dashboard user name. */
export const ADMIN_USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** The dashboard at /admin: who may log in, and how their sessions are signed. */
export const adminSchema = z
  .strictObject({
    /**
     * User name → password hash (scrypt, made by `crier hash-password`), e.g.
     * `ops: ${CRIER_ADMIN_OPS}`. There is no default user and no default password.
     */
    users: z
      .record(
        z.string().regex(ADMIN_USER_NAME, 'a user name is 1-64 letters, digits, dots, dashes, underscores or @'),
        z.string().regex(PASSWORD_HASH, 'is not a password hash; make one with `crier hash-password` and give it from the environment, e.g. ops: ${CRIER_ADMIN_OPS}'),
      )
      .default({}),
    /** A file of `name:hash` lines (made by `crier hash-password --user NAME`), relative to the config file's folder; read with the config (src/config/users-file.ts). */
    usersFile: z.string().min(1).optional(),
    /** Secrets that sign session cookies, from the environment, newest first (like http.secrets). */
    sessionSecrets: secretList('session', 'sessionSecrets: [${CRIER_SESSION_SECRET}]'),
    /** How long a login lasts (default PT12H). */
    sessionTtl: isoDuration.default('PT12H'),
  })
  .superRefine((a, ctx) => {
    if (!Object.keys(a.users).length && !a.usersFile) ctx.addIssue({ code: 'custom', path: ['users'], message: 'name at least one user: users: { ops: ${CRIER_ADMIN_OPS} } (a hash made by `crier hash-password`), or usersFile: admins.txt' });
  });

/**
 * Crier's web endpoint, served by `crier start`: /healthz, /readyz and /metrics always; one-click
 * unsubscribe (RFC 8058) with `secrets`; the dashboard at /admin with `admin`.
 */
export const httpSchema = z
  .strictObject({
    /** Interface to listen on (default 127.0.0.1; behind a reverse proxy that terminates TLS). */
    host: z.string().min(1).default('127.0.0.1'),
    /** Port (default 8080). */
    port: z.number().int().min(0).max(65535).default(8080),
    /** The address the public reaches it at, used in unsubscribe links, e.g. https://crier.gent.be; needed with `secrets`. */
    publicUrl: url(['https', 'http'], 'https://crier.gent.be').optional(),
    /**
     * Secrets that sign unsubscribe links, from the environment, newest first: the first signs,
     * all verify, so a secret rotated out keeps older links working while it is listed. Empty
     * entries (an unset ${VAR:-}) are ignored. Without them there is no unsubscribe endpoint and
     * e-mails carry only a mailto: unsubscribe.
     */
    secrets: secretList('link', 'secrets: [${CRIER_LINK_SECRET}]').optional(),
    /**
     * A reverse proxy in front: true, or the proxy's addresses. Then the client's address (the
     * login rate limit) and https (Secure cookies) come from its X-Forwarded-For and -Proto headers.
     */
    trustProxy: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).default(false),
    /** The dashboard at /admin (runs, deliveries, e-mails as sent, BullMQ's queues, run/retry/resume buttons). */
    admin: adminSchema.optional(),
  })
  .superRefine((h, ctx) => {
    if (h.secrets && !h.publicUrl) ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'unsubscribe links need the address the public reaches Crier at: publicUrl: https://crier.gent.be' });
  });

/** Where replies to Crier's e-mails (project-call answers, bounces) come in. */
export const inboundSchema = z.strictObject({
  /** The mailbox replies go to, e.g. calls@city.example; each recipient replies to calls+TOKEN@city.example. */
  address: email,
  /** Signs the personal reply addresses (HMAC); from the environment, e.g. ${CRIER_INBOUND_SECRET}. At least 16 characters. */
  secret: z.string().min(16, 'write a secret of at least 16 characters, from the environment: secret: ${CRIER_INBOUND_SECRET}'),
  /** A built-in SMTP receiver `crier start` runs, for a forwarding rule or an MX. */
  smtp: z
    .strictObject({
      /** Interface to listen on (default 127.0.0.1). */
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(1).max(65535),
      /** Largest message accepted, in bytes (default 10 MB). */
      maxSize: z.number().int().min(1024).default(10 * 1024 * 1024),
    })
    .optional(),
  /** A mailbox Crier polls (a city's shared mailbox on Exchange Online or Google Workspace). */
  imap: z
    .strictObject({
      /** imaps://user:password@host:993 (imap:// for plain IMAP on a trusted network). */
      url: url(['imap', 'imaps'], 'imaps://calls%40city.example:secret@outlook.office365.com:993'),
      /** The folder to read (default INBOX); processed messages are marked \\Seen. */
      mailbox: z.string().min(1).default('INBOX'),
      /** How often to look (default PT1M). */
      every: isoDuration.default('PT1M'),
    })
    .optional(),
});

export const organizationSchema = z.strictObject({
  /** Shown in headers and footers (default: the platform's organization_name). */
  name: z.string().min(1).optional(),
  /** Brand colour, #rrggbb. */
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, "write a colour as #rrggbb, e.g. '#0f4c81'").default('#0f4c81'),
});

/** Whether a duration is shorter than another, as luxon reads both (a month as 30 days). */
const shorter = (a: string, b: string) => Duration.fromISO(a).toMillis() < Duration.fromISO(b).toMillis();

/**
 * A review step before the schedule's send: `before` the occurrence the reviewers receive the
 * draft as its audience will see it and decide by replying (approve, leave out items, hold, add
 * a note). It needs `inbound:`, through which their replies come back.
 */
export const reviewSchema = z
  .strictObject({
    /** Audience ids (keys of `audiences`) of the reviewers, e.g. [management]. */
    audience: z
      .union([id, z.array(id).min(1)], { error: (i) => (i.input === undefined ? "is required: name the reviewers' audience, e.g. audience: [management]" : 'write an audience id or a list of them, e.g. audience: [management]') })
      .transform((a) => (Array.isArray(a) ? a : [a])),
    /** How long before the occurrence the draft goes to the reviewers (default P5D). */
    before: isoDuration.default('P5D'),
    /** How long the reviewers have to decide, counted from the draft (default P2D); shorter than `before`, so the deadline falls before the send. */
    decide: isoDuration.default('P2D'),
    /** What applies when no decision came by the deadline: send (as drafted) or hold (default send). */
    default: z.enum(['send', 'hold'], { error: (i) => `'${String(i.input)}' is not a review default; use send or hold` }).default('send'),
  })
  .superRefine((r, ctx) => {
    if (Duration.fromISO(r.before).isValid && Duration.fromISO(r.decide).isValid && !shorter(r.decide, r.before)) {
      ctx.addIssue({ code: 'custom', path: ['decide'], message: `'${r.decide}' is not shorter than before '${r.before}': the decision would be due after the send; write e.g. before: P5D, decide: P2D` });
    }
    // Decisions are due 15 minutes before the send at the latest (src/review/plan.ts, DECISION_MARGIN).
    if (Duration.fromISO(r.before).isValid && !shorter('PT15M', r.before)) {
      ctx.addIssue({ code: 'custom', path: ['before'], message: `'${r.before}' leaves the reviewers no time: decisions are due 15 minutes before the send; write more than PT15M, e.g. before: P5D` });
    }
  });

export type ReviewConfig = z.output<typeof reviewSchema>;

/** Keys every schedule has, whatever its job kind. */
export const scheduleBaseShape = {
  /** The job kind (a module in jobs/). */
  job: z.string(),
  /** Audience ids (keys of `audiences`); default: the job kind's own audience. */
  audience: z.union([id, z.array(id).min(1)]).transform((a) => (Array.isArray(a) ? a : [a])).optional(),
  /** Record recipients with nothing to report as skipped instead of sending (default: the job kind's). */
  skipWhenEmpty: z.boolean().optional(),
  /** Five-field cron expressions in the schedule's zone. */
  cron: z.union([cronExpression, z.array(cronExpression).min(1)]).optional(),
  /** Local date-times "YYYY-MM-DD HH:mm". */
  dates: z.array(localDateTime).optional(),
  /** ISO-8601 durations after platform.launch, e.g. [P0D, P1W, P3M]. */
  afterLaunch: z.array(isoDuration).optional(),
  /** Local time of `afterLaunch` occurrences (default 09:00). */
  time: hhmm.default('09:00'),
  /** IANA zone (default: the tenant's core.timezone). */
  timezone: timeZone.optional(),
  /** How late a missed occurrence may still be sent (default P2D); older ones are recorded as missed. */
  catchUp: isoDuration.default('P2D'),
  /** false keeps the schedule in the file without firing it. */
  enabled: z.boolean().default(true),
  /** This schedule's send window (default: mail.window); false: any time. */
  window: z.union([z.literal(false), sendWindowSchema]).optional(),
  /**
   * What "unsubscribe" stops: schedule (this schedule only, the default), job (every schedule
   * of this job kind), or none: internal mail a role must receive (no List-Unsubscribe; the
   * footer says why and whom to ask).
   */
  unsubscribe: z.enum(['schedule', 'job', 'none'], { error: (i) => `'${String(i.input)}' is not an unsubscribe choice; use schedule, job or none` }).default('schedule'),
  /** A review step by e-mail before each send: who reviews, how long before, by when they decide, what applies without a decision. */
  review: reviewSchema.optional(),
};

export const topLevelSchema = z.strictObject({
  platform: platformSchema,
  crier: crierSchema,
  mail: mailSchema,
  organization: organizationSchema.default({ color: '#0f4c81' }),
  audiences: z.record(id, z.array(audienceEntrySchema).min(1, 'an audience lists at least one person or platform role')).default({}),
  /** Department heads of folders the platform has no folder manager for: folder slug → person. */
  departments: z.record(z.string().min(1), personSchema).default({}),
  /** Crier's web endpoint, served by `crier start`: health, metrics, one-click unsubscribe, the dashboard. */
  http: httpSchema.optional(),
  /** The superadmin: told by e-mail when a run pauses itself (default: mail.replyTo, else mail.from). */
  operator: personSchema.optional(),
  /** Replies Crier reads: project-call answers and bounces. */
  inbound: inboundSchema.optional(),
  /** People who may answer a project call for a head: head's address → their deputies' addresses. */
  deputies: z.record(email, z.array(email).min(1)).default({}),
  schedules: z.record(id, z.looseObject({ job: z.string({ error: 'every schedule names its job kind, e.g. job: council-update' }) })),
});
