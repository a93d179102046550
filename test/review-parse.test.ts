import { describe, expect, it } from 'vitest';
import { DateTime, Interval } from 'luxon';
import type { JobKind, PeriodContext, Recipient } from '../src/kit/contract.ts';
import type { RoundReader } from '../src/kit/rounds.ts';
import type { Platform } from '../src/platform/platform.ts';
import { collectDraft } from '../src/review/draft.ts';
import { readDecision } from '../src/review/parse.ts';

describe('reading a reviewer’s reply', () => {
  it.each([
    ['approve', { action: 'send', leaveOut: [], note: null }],
    ['Approved.', { action: 'send', leaveOut: [], note: null }],
    ['Goedgekeurd!', { action: 'send', leaveOut: [], note: null }],
    ['Akkoord', { action: 'send', leaveOut: [], note: null }],
    ['Approuvé', { action: 'send', leaveOut: [], note: null }],
    ['Freigegeben', { action: 'send', leaveOut: [], note: null }],
    ['leave out 3, 5', { action: 'send', leaveOut: [3, 5], note: null }],
    ['Weglaten 5 en 3', { action: 'send', leaveOut: [3, 5], note: null }],
    ['retirer 2 et 4', { action: 'send', leaveOut: [2, 4], note: null }],
    ['Weglassen: 1; 2', { action: 'send', leaveOut: [1, 2], note: null }],
    ['Hello,\n\nleave out 3\nadd: The park figures include the summer festival.\n', { action: 'send', leaveOut: [3], note: 'The park figures include the summer festival.' }],
    ['add:\nnl: De cijfers van het park tellen het zomerfeest mee.\nfr: Les chiffres du parc comptent la fête d’été.', { action: 'send', leaveOut: [], note: 'nl: De cijfers van het park tellen het zomerfeest mee.\nfr: Les chiffres du parc comptent la fête d’été.' }],
    ['hold: the Stadspark figures are under embargo until the press conference', { action: 'hold', reason: 'the Stadspark figures are under embargo until the press conference' }],
    ['Tegenhouden.\nDe cijfers van het park kloppen niet.', { action: 'hold', reason: 'De cijfers van het park kloppen niet.' }],
  ])('%j', (text, decision) => {
    expect(readDecision(text, 5)).toEqual({ ok: true, decision });
  });

  it.each([
    ['Looks fine to me, but ask Dirk', 'none'],
    ["I don't approve yet", 'none'],
    ['leave out the park', 'numbers'],
    ['leave out 7', 'range'],
    ['hold', 'reason'],
    ['approve\nhold: wait for the press', 'both'],
    ['add:', 'note'],
  ])('%j is ambiguous (%s)', (text, problem) => {
    expect(readDecision(text, 5)).toEqual({ ok: false, problem });
  });
});

describe('a review of a job kind that cannot leave anything out', () => {
  it('numbers nothing, so "leave out 1" is refused as a number not on the list', async () => {
    const base = { name: 'plain-news', description: 'news', period: (ctx: PeriodContext) => Interval.after(ctx.occurrence, { days: 1 }) as Interval<true>, collect: async () => ({ headlines: ['Park opens', 'Library closes'] }), view: () => ({}) };
    const reviewItems = (data: unknown) => (data as { headlines: string[] }).headlines.map((h, i) => ({ id: String(i), title: h }));
    const ctx = { scheduleId: 'news', occurrence: DateTime.fromISO('2027-01-04T09:00', { zone: 'Europe/Brussels' }), timezone: 'Europe/Brussels', options: {}, variant: 'default', meta: {} };
    const review = { send: { key: 'k', variant: 'default', meta: {}, at: '2027-01-04T09:00:00+01:00' }, deadline: '2027-01-01T09:00:00+01:00', default: 'send' as const };
    const deps = { platform: {} as Platform, rounds: {} as RoundReader, audience: [{ email: 'mayor@city.example', name: 'Mayor', locale: 'en' }] as Recipient[] };
    const without = await collectDraft({ ...base, reviewItems } as unknown as JobKind, ctx, review, deps);
    expect(without.items).toEqual([]);
    expect(readDecision('leave out 1', without.items.length)).toMatchObject({ ok: false, problem: 'range' });
    const withLeaveOut = await collectDraft({ ...base, reviewItems, leaveOut: (d: unknown) => d } as unknown as JobKind, ctx, review, deps);
    expect(withLeaveOut.items.map((i) => i.title)).toEqual(['Park opens', 'Library closes']);
  });
});
