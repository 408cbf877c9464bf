/**
 * Benchmark of building and signing PEC messages: a ricevuta di accettazione (msgs/s),
 * a 10 MB busta di trasporto (MB/s), and a whole simulated flow (ok-completa, 11
 * messages), with RSA-2048 and ECDSA P-256 gestori.
 *
 * Node 20 cannot strip types: compile this file (and the sources it imports) first, from
 * the repository root:
 *
 *   npx tsc --ignoreConfig --strict --outDir bench/tmp --rootDir . --module nodenext \
 *     --moduleResolution nodenext --target es2022 --skipLibCheck --types node bench/build.ts
 *   taskset -c 0 node bench/tmp/bench/build.js
 *
 * "One core": pin the process with `taskset -c 0` as above. Node runs WebCrypto jobs on
 * its thread pool, so without pinning a second core helps; the loops here await every
 * message, so even unpinned they use about one core.
 *
 * Options (environment): BENCH_SECONDS (default 3 per figure), BENCH_BUSTA_MB (default 10).
 */
import {
  buildAccettazione,
  buildBusta,
  composeMessage,
  newIdentificativo,
  transactionFromOriginal,
} from "../src/pec/build/index.js";
import { type KeyAlgorithm, createGestore, createScenarioPki, createTestCa, runScenario } from "../src/simulator/index.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const BUSTA_MB = Number(process.env.BENCH_BUSTA_MB ?? 10);

/** Deterministic incompressible bytes (a getRandomValues call is limited to 64 KiB). */
function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Runs `fn` repeatedly for about `seconds` (at least `min` times); returns the count and the elapsed ms. */
async function loop(seconds: number, min: number, fn: () => Promise<unknown>): Promise<{ n: number; ms: number; best: number }> {
  await fn(); // warm-up: JIT, key re-import caches
  let n = 0;
  let best = Infinity;
  const start = performance.now();
  while (n < min || performance.now() - start < seconds * 1000) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
    n++;
  }
  return { n, ms: performance.now() - start, best };
}

const rows: string[] = [];

for (const keyAlgorithm of ["RSA-2048", "ECDSA-P256"] as KeyAlgorithm[]) {
  const ca = await createTestCa({ keyAlgorithm });
  const gestore = await createGestore({ name: "Gestore Alfa S.p.A.", domain: "pec.alfa.test", ca, keyAlgorithm });
  const date = new Date();

  // Receipt: a typical short original, so the figure is the per-message cost.
  const small = composeMessage({
    from: "mario.rossi@pec.alfa.test",
    to: ["anna.bianchi@pec.beta.test", "luca.verdi@pec.beta.test"],
    subject: "Offerta n. 12/2026",
    text: "Buongiorno,\nin allegato l'offerta.\n",
    date,
  });
  const tx = transactionFromOriginal(small, { identificativo: newIdentificativo(gestore.domain, { date }) });
  const r = await loop(SECONDS, 20, () => buildAccettazione(gestore, tx, { date }));
  rows.push(
    `| ${keyAlgorithm} | accettazione (build + sign) | ${((r.n / r.ms) * 1000).toFixed(0)} msgs/s | ${(r.ms / r.n).toFixed(2)} ms mean, ${r.best.toFixed(2)} ms best |`,
  );

  // Busta: an attachment sized so that the whole busta is about BUSTA_MB MB (base64 adds a third).
  const attachment = noise(Math.round(((BUSTA_MB * 1e6) / 4) * 3) - 8000);
  const big = composeMessage({
    from: "mario.rossi@pec.alfa.test",
    to: "anna.bianchi@pec.beta.test",
    subject: "Archivio",
    text: "In allegato l'archivio.\n",
    attachments: [{ filename: "archivio.zip", contentType: "application/zip", content: attachment }],
    date,
  });
  const btx = transactionFromOriginal(big, { identificativo: newIdentificativo(gestore.domain, { date }) });
  let size = 0;
  const b = await loop(SECONDS, 3, async () => {
    const busta = await buildBusta(gestore, btx, { original: big, date });
    size = busta.bytes.length;
  });
  const mb = size / 1e6;
  rows.push(
    `| ${keyAlgorithm} | busta di trasporto ${mb.toFixed(1)} MB (build + sign) | ${((mb * b.n) / (b.ms / 1000)).toFixed(0)} MB/s | ${(b.ms / b.n).toFixed(0)} ms mean, ${b.best.toFixed(0)} ms best |`,
  );

  // A whole flow: 11 messages built and signed, 2 bustas verified at the punto di ricezione.
  const pki = await createScenarioPki({ keyAlgorithm });
  const f = await loop(SECONDS, 5, () => runScenario("ok-completa", { pki }));
  rows.push(
    `| ${keyAlgorithm} | simulated flow ok-completa (11 messages) | ${((f.n / f.ms) * 1000).toFixed(1)} flows/s | ${(f.ms / f.n).toFixed(1)} ms mean, ${f.best.toFixed(1)} ms best |`,
  );
}

console.log(`Node ${process.version}, ${SECONDS} s per figure\n`);
console.log("| keys | what | rate | time per item |");
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
