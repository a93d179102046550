/*
 * What a reviewer's reply decides, from the text they wrote (the quoted draft and the signature
 * already removed by the inbound parser). Only whole lines count as commands, in the four
 * catalogue languages, so "I don't approve yet" or a sentence that mentions holding is not a
 * decision: a reply Crier cannot read for certain is answered with a request to rephrase and
 * counts for nothing, since a wrong guess would send, or stop, a report to the council.
 */

/** A reviewer's decision: send (as drafted, with items left out or a note added) or hold. */
export type Decision =
  | { action: 'send'; leaveOut: number[]; note: string | null }
  | { action: 'hold'; reason: string };

export type Reading = { ok: true; decision: Decision } | { ok: false; problem: string };

// Each command's words in en, nl, fr, de; matched case-insensitively at the start of a line.
const APPROVE = /^(approved?|ok(ay)?|agreed|akkoord|goedgekeurd|goedkeuren|goed|approuv[ée]e?|approuver|d['’]accord|freigegeben|freigeben|einverstanden|genehmigt)[\s.!]*$/i;
const LEAVE_OUT = /^(leave out|omit|weglaten|laat weg|niet vermelden|retirer|omettre|weglassen|nicht aufführen)\b[\s:]*(.*)$/i;
const HOLD = /^(hold|do not send|don['’]t send|tegenhouden|niet versturen|suspendre|ne pas envoyer|zurückhalten|nicht versenden)\b[\s:.,-]*(.*)$/i;
const ADD = /^(add|note|toevoegen|noot|ajouter|hinzufügen|notiz)\s*:\s*(.*)$/i;

/** "3, 5", "3 and 5", "3 en 5", "3 et 5", "3 und 5", "3;5": the numbers, or null when anything else is there. */
function numbers(text: string): number[] | null {
  const parts = text.trim().replace(/[.!]+$/, '').split(/\s*(?:,|;|\band\b|\ben\b|\bet\b|\bund\b|\s)\s*/i).filter(Boolean);
  if (!parts.length || parts.some((p) => !/^\d{1,4}$/.test(p))) return null;
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/**
 * Reads a reply against a round of `items` numbered items. Lines before the first command
 * (a greeting) and after the last one are the reviewer's own words: a hold's reason, an added
 * note that runs on over several lines.
 */
export function readDecision(text: string, items: number): Reading {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  let approve = false;
  let leaveOut: number[] = [];
  let hold: string | null = null;
  let note: string[] | null = null;
  // The open command whose following lines continue it: an added note or a hold's reason.
  let open: 'note' | 'hold' | null = null;
  let commands = 0;
  for (const line of lines) {
    if (!line) {
      open = null;
      continue;
    }
    let m: RegExpExecArray | null;
    if (APPROVE.test(line)) {
      approve = true;
      open = null;
    } else if ((m = LEAVE_OUT.exec(line))) {
      const n = numbers(m[2]);
      if (!n) return { ok: false, problem: 'numbers' };
      const wrong = n.filter((x) => x < 1 || x > items);
      if (wrong.length) return { ok: false, problem: 'range' };
      leaveOut = [...new Set([...leaveOut, ...n])].sort((a, b) => a - b);
      open = null;
    } else if ((m = HOLD.exec(line))) {
      hold = m[2].trim();
      open = 'hold';
    } else if ((m = ADD.exec(line))) {
      note = m[2].trim() ? [m[2].trim()] : [];
      open = 'note';
    } else if (open === 'note') {
      note!.push(line);
      continue;
    } else if (open === 'hold') {
      hold = [hold, line].filter(Boolean).join(' ');
      continue;
    } else {
      continue;
    }
    commands++;
  }
  if (!commands) return { ok: false, problem: 'none' };
  if (hold !== null && (approve || leaveOut.length || note)) return { ok: false, problem: 'both' };
  if (hold !== null) return hold ? { ok: true, decision: { action: 'hold', reason: hold } } : { ok: false, problem: 'reason' };
  if (note && !note.join('').trim()) return { ok: false, problem: 'note' };
  return { ok: true, decision: { action: 'send', leaveOut, note: note ? note.join('\n') : null } };
}
