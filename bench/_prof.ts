import { renderCorpus, renderInputFor, variedRecipients } from './corpus.ts';
import { renderMessage } from '../src/delivery/message.ts';
import { loadCatalogues } from '../src/render/catalog.ts';
const { runs, config, close } = await renderCorpus({ perLocale: 1 });
await close();
const council = runs.find((r) => r.job.name === (process.env.KIND ?? 'council-update'))!;
const rec = variedRecipients(council.audience, [...loadCatalogues().keys()], 50);
for (let pass = 0; pass < Number(process.env.PASSES ?? 10); pass++) {
  const data = structuredClone(council.data);
  const t0 = performance.now();
  for (const r of rec) await renderMessage(renderInputFor(config, council, { ...r }, data));
  console.log(((performance.now() - t0) / rec.length).toFixed(3), 'ms/recipient');
}
