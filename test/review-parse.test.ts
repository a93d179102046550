import { describe, expect, it } from 'vitest';
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
