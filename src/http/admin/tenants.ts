import type { FastifyInstance } from 'fastify';
import { operatorOf } from '../../config/addresses.ts';
import { formatIssue } from '../../config/errors.ts';
import type { TenantConfig } from '../../config/tenants.ts';
import type { Crier } from '../../deployment/deployment.ts';
import { resolveMultiloc } from '../../render/multiloc.ts';
import { checkEachPlatform } from '../platforms.ts';
import { html, type Html } from './html.ts';
import { sendPage } from './pages.ts';
import { ADMIN, page, status, type Chrome } from './views.ts';

/*
 * The dashboard's first page in a deployment of many: every tenant, the running ones linked to
 * their own pages (/admin/t/<id>/, see index.ts) with whether their platform answers, and the
 * refused ones with the first error that refused them, as `crier start` logged it.
 */

/** How long the list waits for the tenants' platforms (asked a few at a time), as /readyz does. */
const PLATFORMS_WITHIN_MS = 3000;

/** The tenants of a deployment of many, as `crier start` loaded them. */
export interface Tenants {
  /** Every tenant that runs, in the order of the configs. */
  running: readonly Crier[];
  /** Every tenant whose config was refused (each with its error). */
  refused: readonly TenantConfig[];
}

/** One line of the list. */
export interface TenantLine {
  id: string;
  file: string;
  /** A running tenant. */
  running?: {
    organization?: string;
    schedules: number;
    disabled: number;
    /** Why its platform did not answer, when it did not (as /readyz says). */
    platformError?: string;
  };
  /** A refused tenant: its first error (file, line, field) and how many more there are. */
  refused?: { first: string; more: number };
}

/** `/admin/t/<id>`: where a tenant's pages are. */
export const tenantBase = (id: string) => `${ADMIN}/t/${id}`;

/**
 * The list's lines, in the order of the tenants' ids. A tenant's name is its config's
 * `organization.name`, else its platform's organization_name in the superadmin's language
 * (the language of its notices, `operator.locale`).
 */
async function linesOf(tenants: Tenants): Promise<TenantLine[]> {
  // Every platform is asked, named in the config or not: the list shows what /readyz checks.
  const asked = await checkEachPlatform(tenants.running, PLATFORMS_WITHIN_MS);
  const answers = new Map(asked.map((a) => [a.tenant, a]));
  const running = tenants.running.map((crier): TenantLine => {
    const { config } = crier;
    const id = config.tenant!;
    const answer = answers.get(id);
    const schedules = Object.values(config.schedules);
    return {
      id,
      file: config.file,
      running: {
        organization: config.organization.name ?? (answer?.ok ? resolveMultiloc(answer.value.info.organizationName, operatorOf(config).locale, []) || undefined : undefined),
        schedules: schedules.length,
        disabled: schedules.filter((s) => !s.enabled).length,
        platformError: answer && !answer.ok ? answer.error : undefined,
      },
    };
  });
  const refused = tenants.refused.map((t): TenantLine => {
    const issues = t.error?.issues ?? [];
    return { id: t.id, file: t.file, refused: { first: issues.length ? formatIssue(issues[0]) : (t.error?.message ?? 'refused'), more: Math.max(0, issues.length - 1) } };
  });
  return [...running, ...refused].sort((a, b) => a.id.localeCompare(b.id));
}

export function tenantsPage(chrome: Chrome, lines: TenantLine[]): Html {
  const refused = lines.filter((l) => l.refused).length;
  return page(
    chrome,
    'Tenants',
    html`<p class="muted">${lines.length - refused} tenant(s) run in this deployment${refused ? html`; ${refused} refused at start (fix its file, then restart: <code>crier check --configs DIR</code> says what is wrong)` : ''}. Each tenant's pages act on that tenant only.</p>
<table><tr><th class="nowrap">Tenant</th><th class="nowrap">Organisation</th><th class="nowrap">Schedules</th><th>Status</th></tr>
${lines.map((l) =>
  l.running
    ? html`<tr><td class="nowrap"><a href="${tenantBase(l.id)}">${l.id}</a></td><td>${l.running.organization ?? html`<span class="muted">unknown</span>`}</td><td>${l.running.schedules}${l.running.disabled ? html` <span class="muted">(${l.running.disabled} disabled)</span>` : ''}</td><td>${status('running')}${
        l.running.platformError ? html`<div class="muted">platform: ${l.running.platformError}</div>` : ''
      }</td></tr>`
    : html`<tr><td class="nowrap">${l.id}</td><td></td><td></td><td>${status('refused')}<div>${l.refused!.first}</div>${l.refused!.more ? html`<div class="muted">and ${l.refused!.more} more error(s)</div>` : ''}</td></tr>`,
)}</table>`,
  );
}

/** GET / of the dashboard of many: the tenant list. */
export function registerTenantList(app: FastifyInstance, tenants: Tenants): void {
  app.get('/', async (req, reply) => {
    const chrome: Chrome = { user: req.adminUser ?? '', csrf: await reply.generateCsrf(), many: {} };
    return sendPage(reply, tenantsPage(chrome, await linesOf(tenants)));
  });
}
