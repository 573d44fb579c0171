/**
 * `npm run chaos`: the chaos suite, against the real daemon and a collector on 127.0.0.1 (not
 * part of `npm test`; `--short` is, through test/chaos/short.test.ts). Prints, per scenario,
 * lines written, delivered, missing, duplicates, messageId conflicts, abnormal exits and peak
 * RSS, as markdown; exits 1 when a scenario fails.
 *
 * Flags: --short (fewer kills, rotations and lines: CI), --only <name>[,<name>], --skip <name>[,<name>],
 * --outage-seconds N (default 300; 15 with --short). Needs root for the tmpfs (disk-full) and,
 * when logrotate is missing, for apt-get.
 */
import { hostileLines } from './hostile.js';
import { passed, type Figures } from './harness.js';
import { copytruncate, diskFull, kills, outage, stopCont, twoDaemons, type ChaosOptions } from './scenarios.js';

const SCENARIOS: Record<string, (o: ChaosOptions) => Promise<Figures>> = {
  kills,
  copytruncate,
  'disk-full': diskFull,
  outage,
  hostile: hostileLines,
  'stop-cont': stopCont,
  'two-daemons': twoDaemons,
};

function parseArgs(argv: string[]): { options: ChaosOptions; only: string[] } {
  const short = argv.includes('--short');
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const skip = value('--skip')?.split(',') ?? [];
  const only = (value('--only')?.split(',') ?? Object.keys(SCENARIOS)).filter((n) => !skip.includes(n));
  for (const name of [...only, ...skip]) if (!SCENARIOS[name]) throw new Error(`unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const outageSeconds = Number(value('--outage-seconds') ?? (short ? 15 : 300));
  if (!(outageSeconds > 0)) throw new Error('--outage-seconds needs a positive number');
  return { options: { short, outageSeconds }, only };
}

function row(f: Figures): string {
  return `| ${f.scenario} | ${f.written} | ${f.delivered} | ${f.missing} | ${f.duplicates} | ${f.idConflicts} | ${f.abnormalExits} | ${f.peakRssMiB} | ${f.seconds} | ${passed(f) ? 'pass' : '**FAIL**'} |`;
}

async function main(): Promise<void> {
  const { options, only } = parseArgs(process.argv.slice(2));
  console.log(`# tailship chaos${options.short ? ' (--short)' : ''}\n\n${new Date().toISOString()}, Node ${process.version}\n`);
  const results: Figures[] = [];
  for (const name of only) {
    console.error(`chaos: ${name}...`);
    let f: Figures;
    try {
      f = await SCENARIOS[name]!(options);
    } catch (err) {
      f = { scenario: name, written: 0, delivered: 0, missing: 0, duplicates: 0, idConflicts: 0, abnormalExits: 0, peakRssMiB: 0, seconds: 0, notes: [], failures: [`threw: ${err instanceof Error ? err.stack : String(err)}`] };
    }
    results.push(f);
    console.error(`chaos: ${name}: ${passed(f) ? 'pass' : 'FAIL'} (${f.written} written, ${f.missing} missing, ${f.seconds}s)`);
  }
  console.log('| scenario | lines written | delivered | missing | duplicates | messageId conflicts | abnormal exits | peak RSS MiB | s | result |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const f of results) console.log(row(f));
  for (const f of results) {
    if (f.notes.length === 0 && f.failures.length === 0) continue;
    console.log(`\n**${f.scenario}**\n`);
    for (const n of f.notes) console.log(`- ${n}`);
    for (const n of f.failures) console.log(`- FAILED: ${n}`);
  }
  process.exitCode = results.every(passed) ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
