import { DateTime, Interval } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCorpus, renderInputFor, variedRecipients, type CorpusRun } from '../bench/corpus.ts';
import type { CrierConfig } from '../src/config/load.ts';
import { recipientView, renderMessage, type RenderInput } from '../src/delivery/message.ts';
import type { JobKind, Recipient, ViewContext } from '../src/kit/contract.ts';
import { loadCatalogues } from '../src/render/catalog.ts';
import { dropTestData, uniqueName } from './helpers/services.ts';

/*
 * A recipient's render keeps what is the same for every recipient of a run in one language: the
 * job kind's view, worked out once per run's snapshot, language and what the view read of the
 * recipient (their scope, their copy, their address), and the parts of the templates that read
 * no recipient field, filled once per kept view (src/delivery/message.ts, SplitFill in
 * src/render/template.ts). What each recipient gets must be byte for byte what rendering afresh
 * gives (`memo: false`), for every send of the shipped demo config, every language, names with
 * markup, line breaks and control characters, scopes, copies and every kind of footer.
 */

const zone = 'Europe/Brussels';
const platform = { host: 'p.example.org', schema: 'p_example_org', timezone: zone, locales: ['nl-BE', 'fr-BE'], organizationName: { 'nl-BE': 'Stad', 'fr-BE': 'Ville' }, url: 'https://p.example.org', currency: 'EUR' };
const period = Interval.fromDateTimes(DateTime.fromISO('2026-10-01', { zone }), DateTime.fromISO('2027-01-01', { zone })) as Interval<true>;

/** A job kind whose view is `view`, counting how often it is worked out. */
function kind(view: (ctx: ViewContext) => Record<string, unknown>) {
  const job = { name: 'council-update', calls: 0, view: (_data: unknown, ctx: ViewContext) => (job.calls++, view(ctx)) };
  return job;
}

function input(job: { name: string; view: JobKind['view'] }, data: object, recipient: Recipient): RenderInput {
  return { job: job as unknown as JobKind, data, recipient, platform, period, timezone: zone, color: '#0f4c81', replyTo: 'p@example.org' };
}

const ann = { email: 'ann@example.org', name: 'Ann', locale: 'nl-BE' };
const bob = { email: 'bob@example.org', name: 'Bob', locale: 'nl-BE' };
const cleo = { email: 'cleo@example.org', name: 'Cléo', locale: 'fr-BE' };

describe('a view is worked out once per run, language and what it read of the recipient', () => {
  it('once per language when it reads nothing of the recipient', () => {
    const job = kind((ctx) => ({ subject: ctx.t('common.openPlatform') }));
    const data = {};
    for (const r of [ann, bob, { ...ann, email: 'ann2@example.org' }, cleo, { ...cleo, name: 'Zoë' }]) recipientView(input(job, data, { ...r }));
    expect(job.calls).toBe(2);
    // Another run's snapshot is another run.
    recipientView(input(job, {}, { ...ann }));
    expect(job.calls).toBe(3);
  });

  it('per value of what it read: a scope, a copy, an address', () => {
    const byScope = kind((ctx) => ({ subject: `folders ${ctx.recipient.scope?.folders?.join(',') ?? 'all'}` }));
    const data = {};
    const views = [ann, { ...bob, scope: { folders: ['f1'] } }, { ...ann, email: 'x@example.org', scope: { folders: ['f1'] } }, bob].map((r) => recipientView(input(byScope, data, r)).view.subject);
    expect(views).toEqual(['folders all', 'folders f1', 'folders f1', 'folders all']);
    expect(byScope.calls).toBe(2);

    const byAddress = kind((ctx) => ({ subject: `for ${ctx.recipient.email}` }));
    expect([ann, bob, ann].map((r) => recipientView(input(byAddress, data, { ...r })).view.subject)).toEqual(['for ann@example.org', 'for bob@example.org', 'for ann@example.org']);
    expect(byAddress.calls).toBe(2);
  });

  it('never when the view could reach its recipient later (holds it, a function, a getter) or changes it', () => {
    const data = {};
    const holding = kind((ctx) => ({ subject: 's', who: ctx.recipient }));
    expect([ann, bob].map((r) => (recipientView(input(holding, data, { ...r })).view.who as Recipient).name)).toEqual(['Ann', 'Bob']);
    expect(holding.calls).toBe(2);
    const getter = kind((ctx) => ({
      subject: 's',
      get name() {
        return ctx.recipient.name;
      },
    }));
    expect([ann, bob].map((r) => recipientView(input(getter, data, { ...r })).view.name)).toEqual(['Ann', 'Bob']);
    expect(getter.calls).toBe(2);
    const writing = kind((ctx) => {
      (ctx.recipient as { seen?: boolean }).seen = true;
      return { subject: 's' };
    });
    for (const r of [ann, bob]) recipientView(input(writing, data, { ...r }));
    expect(writing.calls).toBe(2);
  });

  it('afresh every time with memo: false', () => {
    const job = kind(() => ({ subject: 's' }));
    const data = {};
    for (const r of [ann, bob]) recipientView(input(job, data, { ...r }), { memo: false });
    expect(job.calls).toBe(2);
  });

  it('fills the recipient’s own fields per recipient', async () => {
    const job = kind((ctx) => ({ subject: 's', title: 'T', intro: 'I', scheduleName: ctx.t('council-update.scheduleName'), cta: { label: 'Open', url: 'https://p.example.org' } }));
    const data = {};
    const a = await renderMessage({ ...input(job, data, { ...ann }), unsubscribe: { url: 'https://u.example/a?x=1&y="2"' } });
    const b = await renderMessage({ ...input(job, data, { ...bob, name: 'Bob <b>&amp;</b>\r\nX\u0001' }), unsubscribe: { required: true } });
    expect(job.calls).toBe(1);
    expect(a.text).toContain('Ann');
    expect(a.html).toContain('https://u.example/a?x&#x3D;1&amp;y&#x3D;&quot;2&quot;');
    expect(b.html).not.toContain('Ann');
    expect(b.html).toContain('Bob &lt;b&gt;&amp;amp;&lt;/b&gt; X');
    for (const [r, got] of [[ann, a], [bob, b]] as const) {
      const fresh = await renderMessage({ ...input(job, data, { ...r, name: got === b ? 'Bob <b>&amp;</b>\r\nX\u0001' : r.name }), unsubscribe: got === a ? { url: 'https://u.example/a?x=1&y="2"' } : { required: true } }, { memo: false });
      expect(got.html).toBe(fresh.html);
      expect(got.text).toBe(fresh.text);
    }
  });
});

describe('the parts of a template filled once per view', () => {
  it('make what filling the whole template makes, with line breaks and control characters in the view and the name', async () => {
    const job = kind(() => ({ subject: 's', title: 'T\r', intro: 'one\r\u0001\ntwo\r\r\nthree  \n\n\n\nfour\u000b', scheduleName: 'x', cta: { label: 'Open\r', url: 'https://p.example.org' } }));
    const data = {};
    for (const r of [ann, { ...bob, name: 'Bob\r\u0001\nB  ' }, { ...ann, email: 'a3@example.org', name: '' }]) {
      const kept = await renderMessage({ ...input(job, data, { ...r }), unsubscribe: { url: 'https://u.example/x' } });
      const fresh = await renderMessage({ ...input(job, data, { ...r }), unsubscribe: { url: 'https://u.example/x' } }, { memo: false });
      expect(kept.html).toBe(fresh.html);
      expect(kept.text).toBe(fresh.text);
    }
    expect(job.calls).toBe(1 + 3);
  });
});

describe('every send of the shipped demo config, for varied recipients', () => {
  const host = `${uniqueName('render_memo').replace(/_/g, '-')}.crier.test`;
  const schema = uniqueName('crier_render_memo');
  let runs: CorpusRun[] = [];
  let config: CrierConfig;

  beforeAll(async () => {
    const corpus = await renderCorpus({ tenant: host, schema, now: DateTime.fromISO('2027-01-02T10:00:00', { zone }), perLocale: 3 });
    await corpus.close();
    ({ runs, config } = corpus);
  }, 120_000);

  afterAll(async () => {
    await dropTestData({ host, schema });
  });

  it('renders each recipient byte for byte as afresh, and works each view out once per language and scope', async () => {
    const kinds = new Set(runs.map((r) => r.job.name));
    expect([...kinds].sort()).toEqual(['communication-brief', 'council-update', 'department-digest', 'launch-check-in', 'moderator-digest', 'project-call', 'steering-meeting', 'survey-reminder']);
    const locales = [...loadCatalogues().keys()];
    const odd = (r: Recipient): Recipient[] => [
      { ...r, email: `odd1.${r.email}`, name: 'Ann "<b>O\'Neil</b>" & co\r\nline\u0001two  ', locale: 'nl_BE' },
      { ...r, email: `odd2.${r.email}`, name: '', locale: 'xx-YY' },
      { ...r, email: `odd3.${r.email}`, name: 'Z', locale: '' },
    ];
    let renders = 0;
    let views = 0;
    for (const run of runs) {
      const counted = { ...run.job, view: (data: unknown, ctx: ViewContext) => (views++, run.job.view(data, ctx)) };
      const recipients = [...variedRecipients(run.audience, locales, 3), ...odd(run.recipients[0])];
      const data = structuredClone(run.data);
      const before = views;
      // Twice: the second time every view is kept.
      for (let pass = 0; pass < 2; pass++) {
        for (const [i, recipient] of recipients.entries()) {
          const base = renderInputFor(config, { ...run, job: counted }, recipient, data);
          const footer = [base.unsubscribe, { required: true }, {}][i % 3];
          const kept = await renderMessage({ ...base, unsubscribe: footer });
          const fresh = await renderMessage({ ...base, job: run.job, data: run.data, unsubscribe: footer }, { memo: false });
          const where = `${run.schedule.id} ${run.planned.variant} ${recipient.email} ${recipient.locale}`;
          expect(kept.subject, where).toBe(fresh.subject);
          expect(kept.html, where).toBe(fresh.html);
          expect(kept.text, where).toBe(fresh.text);
          expect(kept.preheader, where).toBe(fresh.preheader);
          expect(kept.locale, where).toBe(fresh.locale);
          expect(kept.conversation, where).toEqual(fresh.conversation);
          expect(kept.calendar?.content.replace(/DTSTAMP:\w+/, ''), where).toBe(fresh.calendar?.content.replace(/DTSTAMP:\w+/, ''));
          renders++;
        }
      }
      // The council update reads nothing of its recipient: one view per locale as written.
      if (run.job.name === 'council-update') expect(views - before).toBe(new Set(recipients.map((r) => r.locale)).size);
    }
    expect(views).toBeLessThan(renders / 2);
  }, 120_000);
});
