// Golden capture: `node --import tsx /tmp/golden/capture.ts prepare` reads the corpus into inputs.json;
// `render OUT.json` renders every input with the current code.
import { readFileSync, writeFileSync } from 'node:fs';
import { DateTime, Interval } from 'luxon';
import { renderCorpus } from '../bench/corpus.ts';
import { renderMessage } from '../src/delivery/message.ts';
import { loadJobKinds } from '../src/job-registry.ts';

const [cmd, out] = process.argv.slice(2);
if (cmd === 'prepare') {
  const { runs, close } = await renderCorpus({ tenant: 'golden.crier.local', now: DateTime.fromISO('2027-01-02T10:00:00', { zone: 'Europe/Brussels' }), perLocale: 3 });
  const cases = [];
  for (const r of runs) {
    const recipients = [...r.recipients, { email: 'odd1@example.org', name: '', locale: 'nl_BE' }, { email: 'odd2@example.org', name: 'X\u0001Y', locale: 'xx-YY' }, { email: 'odd3@example.org', name: 'Z', locale: '' }];
    recipients.forEach((recipient, i) => {
      cases.push({
        job: r.job.name, schedule: r.schedule.id, data: r.data, period: [r.period.start.toISO(), r.period.end.toISO()], timezone: r.schedule.timezone,
        run: { occurrence: r.planned.occurrence.toISO(), variant: r.planned.variant, meta: r.planned.meta }, platform: r.platform, recipient,
        unsubscribe: [{ url: `https://crier.example/u?t=${i}&x="<>` }, { required: true }, {}][i % 3], color: i % 2 ? '#0f4c81' : '#aa0000',
        organizationName: i % 4 === 3 ? 'Stad & "Gent"' : undefined, sender: { name: 'Participatie', address: 'p@example.org' },
      });
    });
  }
  writeFileSync('/tmp/golden/inputs.json', JSON.stringify(cases));
  console.log(cases.length, 'cases from', runs.length, 'runs:', runs.map((r) => `${r.schedule.id}/${r.planned.variant}(${r.audience.length})`).join(' '));
  await close();
} else {
  const jobs = await loadJobKinds();
  const cases = JSON.parse(readFileSync('/tmp/golden/inputs.json', 'utf8'));
  // One shared data object per run, as the send path has it.
  const datas = new Map();
  const results = [];
  for (const c of cases) {
    const key = `${c.schedule}/${c.run.variant}`;
    if (!datas.has(key)) datas.set(key, c.data);
    const period = Interval.fromDateTimes(DateTime.fromISO(c.period[0], { zone: c.timezone }), DateTime.fromISO(c.period[1], { zone: c.timezone }));
    const m = await renderMessage({
      job: jobs.get(c.job)!, data: datas.get(key), recipient: c.recipient, platform: c.platform, period, timezone: c.timezone,
      run: { occurrence: DateTime.fromISO(c.run.occurrence, { zone: c.timezone }), variant: c.run.variant, meta: c.run.meta },
      organizationName: c.organizationName, color: c.color, replyTo: 'reply@example.org', unsubscribe: c.unsubscribe, sender: c.sender,
    });
    results.push({ key: `${key} ${c.recipient.email} ${c.recipient.locale}`, ...m });
  }
  writeFileSync(out, JSON.stringify(results));
  console.log(results.length, 'rendered');
}
