/**
 * `npm run bench`: runs the benchmark sections in turn and prints each as markdown. Sections
 * owned by other files (many-files, destinations, startup, ...) are imported dynamically, so a
 * missing one is skipped with a note. Flags: `--only <name>[,<name>]` runs just those sections,
 * `--quick` uses smaller inputs and one run, `--vs syslog-ng` and `--vs fluent-bit` run the side-by-side
 * comparisons; `--only sidecar` compares one slow file's costs with Fluent Bit's.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchE2e, formatE2e } from './e2e.js';
import { deployedSettings, nodeOptionsMode } from './node-options.js';
import { applyProcessTuning } from '../src/tuning/index.js';

// The sections that run tailship's code in this process measure it as bin/tailship.js runs it.
applyProcessTuning();

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Section {
  title: string;
  markdown: string;
}

interface Options {
  quick: boolean;
  only: Set<string> | undefined;
  vs: string | undefined;
}

interface SectionDef {
  name: string;
  /** Runs only when asked for by --only (long or needing system packages). */
  optIn?: boolean;
  run: (o: Options) => Promise<Section | undefined>;
}

/** Calls `bench/<file>.js`'s `fn` when the file exists; undefined (a note) otherwise. */
async function external(file: string, fn: string): Promise<Section | undefined> {
  const full = path.join(HERE, `${file}.js`);
  if (!existsSync(full)) return { title: file, markdown: `_skipped: bench/${file}.ts does not exist yet_` };
  const spec = `./${file}.js`;
  const mod = (await import(spec)) as Record<string, unknown>;
  const f = mod[fn];
  if (typeof f !== 'function') return { title: file, markdown: `_skipped: bench/${file}.ts has no export ${fn}_` };
  return (await (f as () => Promise<Section>)()) as Section;
}

const SECTIONS: SectionDef[] = [
  {
    name: 'e2e',
    run: async (o) => {
      const lines = o.quick ? 200_000 : 1_000_000;
      const runs = o.quick ? 1 : 3;
      const s = await benchE2e(lines, runs);
      const flags = nodeOptionsMode() === 'deployed' ? `as deployed: \`${deployedSettings()}\`` : "node's and glibc's defaults";
      return {
        title: `End to end: ${lines.toLocaleString('en-US')} nginx lines, median of ${runs} (${flags})`,
        markdown: formatE2e(s),
      };
    },
  },
  {
    name: 'parse',
    run: async (o) => {
      const full = path.join(HERE, 'parsers.js');
      if (!existsSync(full)) return { title: 'Parse stage', markdown: '_skipped: bench/parsers.ts does not exist yet_' };
      const spec = './parsers.js';
      const mod = (await import(spec)) as {
        benchParsers: (lines: number) => Promise<Array<{ parser: string; linesPerSec: number }>>;
        formatParserTable?: (r: unknown, lines: number) => string;
      };
      const lines = o.quick ? 200_000 : 1_000_000;
      const results = await mod.benchParsers(lines);
      return {
        title: 'Parse stage alone (one thread)',
        markdown: mod.formatParserTable ? mod.formatParserTable(results, lines) : results.map((r) => `- ${r.parser}: ${r.linesPerSec.toLocaleString('en-US')} lines/s`).join('\n'),
      };
    },
  },
  {
    name: 'mapping',
    run: async (o) => {
      const full = path.join(HERE, 'mapping.js');
      if (!existsSync(full)) return { title: 'Mapping stage', markdown: '_skipped: bench/mapping.ts does not exist yet_' };
      const spec = './mapping.js';
      const mod = (await import(spec)) as { benchMapping: (n: number) => Promise<{ recordsPerSec: number; eventsPerRecord: number; invalid: number }> };
      const n = o.quick ? 200_000 : 1_000_000;
      const r = await mod.benchMapping(n);
      return {
        title: 'Mapping stage alone (one thread, 5 rules)',
        markdown: `${r.recordsPerSec.toLocaleString('en-US')} records/s over ${n.toLocaleString('en-US')} records (${r.eventsPerRecord.toFixed(2)} events/record, ${r.invalid} invalid)`,
      };
    },
  },
  { name: 'many-files', run: () => external('many-files', 'benchManyFiles') },
  {
    // Issue #8: 1,000 files appended concurrently ≥ 70% of the single-file lines/s. Both sides
    // use bench/many-files.ts's method (appends while the daemon runs), alternating, 3 rounds.
    name: 'files-ratio',
    run: async (o) => {
      const full = path.join(HERE, 'many-files.js');
      if (!existsSync(full)) return { title: 'Many files vs one file', markdown: '_skipped: bench/many-files.ts does not exist yet_' };
      const spec = './many-files.js';
      type R = { linesPerSec: number; cpuUsPerLine: number; peakRssMb: number };
      const mod = (await import(spec)) as { runManyFiles: (files: number, linesPerFile: number, maxOpen: number) => Promise<R> };
      const total = o.quick ? 100_000 : 200_000;
      const rounds = o.quick ? 1 : 3;
      const one: R[] = [];
      const many: R[] = [];
      for (let i = 0; i < rounds; i++) {
        one.push(await mod.runManyFiles(1, total, 1024));
        many.push(await mod.runManyFiles(1000, total / 1000, 1024));
      }
      const { median } = await import('./e2e.js');
      const a = median(one.map((r) => r.linesPerSec));
      const b = median(many.map((r) => r.linesPerSec));
      const row = (label: string, rs: R[]): string =>
        `| ${label} | ${rs.map((r) => r.linesPerSec.toLocaleString('en-US')).join(' / ')} | ${median(rs.map((r) => r.cpuUsPerLine)).toFixed(1)} | ${median(rs.map((r) => r.peakRssMb)).toFixed(0)} |`;
      return {
        title: `Many files vs one file: ${total.toLocaleString('en-US')} lines appended while the daemon runs, ${rounds} alternating rounds`,
        markdown: [
          '| files | lines/s per round | CPU µs/line (median) | peak RSS MB (median) |',
          '|---|---:|---:|---:|',
          row('1', one),
          row('1,000', many),
          '',
          `**1,000 files reach ${((100 * b) / a).toFixed(0)}% of the single-file lines/s** (medians ${b.toLocaleString('en-US')} / ${a.toLocaleString('en-US')}; target ≥ 70%); per round ${one.map((r, i) => `${((100 * many[i]!.linesPerSec) / r.linesPerSec).toFixed(0)}%`).join(', ')}.`,
        ].join('\n'),
      };
    },
  },
  { name: 'destinations', run: () => external('destinations', 'benchDestinations') },
  { name: 'startup', run: () => external('startup', 'benchStartup') },
  {
    name: 'vs-syslog-ng',
    optIn: true,
    run: async (o) => {
      const { benchVsSyslogNg } = await import('./vs-syslog-ng.js');
      return benchVsSyslogNg({ quick: o.quick });
    },
  },
  {
    name: 'vs-fluent-bit',
    optIn: true,
    run: async (o) => {
      const { benchVsFluentBit } = await import('./vs-fluent-bit.js');
      return benchVsFluentBit({ quick: o.quick });
    },
  },
  {
    name: 'sidecar',
    optIn: true,
    run: async (o) => {
      const { benchSidecar } = await import('./sidecar.js');
      return benchSidecar({ quick: o.quick });
    },
  },
  {
    name: 'latency',
    run: async (o) => {
      const { benchLatency } = await import('./latency.js');
      return benchLatency(o.quick ? 8 : 20);
    },
  },
  {
    name: 'memory',
    optIn: true,
    run: async (o) => {
      const { benchMemory } = await import('./memory.js');
      return benchMemory(o.quick ? 3 : 10);
    },
  },
  {
    name: 'workers',
    optIn: true,
    run: async (o) => {
      const { benchWorkers } = await import('./e2e.js');
      return { title: 'End to end by processing workers (`workers: 0|1|2|3`)', markdown: await benchWorkers(o.quick ? 200_000 : 1_000_000, o.quick ? 1 : 3) };
    },
  },
  {
    name: 'node-options',
    optIn: true,
    run: async (o) => {
      const { benchNodeOptions } = await import('./e2e.js');
      return { title: "End to end under node's default flags and under deploy/'s NODE_OPTIONS", markdown: await benchNodeOptions(o.quick ? 200_000 : 1_000_000, o.quick ? 1 : 3) };
    },
  },
  {
    name: 'profile',
    optIn: true,
    run: async (o) => {
      const { benchProfile } = await import('./profile.js');
      return benchProfile(o.quick ? 200_000 : 1_000_000);
    },
  },
];

function parseArgs(argv: string[]): Options {
  let only: Set<string> | undefined;
  let vs: string | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--only=')) only = new Set(a.slice(7).split(',').filter(Boolean));
    else if (a === '--vs') vs = argv[++i];
    else if (a.startsWith('--vs=')) vs = a.slice(5);
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${SECTIONS.map((s) => s.name).join('|')}] [--vs syslog-ng|fluent-bit]`);
      process.exit(0);
    } else {
      console.error(`unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  return { quick, only, vs };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.vs !== undefined) {
    if (o.vs !== 'syslog-ng' && o.vs !== 'fluent-bit') {
      console.error(`--vs: syslog-ng or fluent-bit, got ${o.vs}`);
      process.exit(2);
    }
    o.only ??= new Set();
    o.only.add(`vs-${o.vs}`);
  }
  if (o.only) {
    const known = new Set(SECTIONS.map((s) => s.name));
    for (const n of o.only) {
      if (!known.has(n)) {
        console.error(`--only: unknown section ${n}; known: ${[...known].join(', ')}`);
        process.exit(2);
      }
    }
  }
  console.log(`# tailship benchmark — ${new Date().toISOString()}, node ${process.version}, ${process.platform}/${process.arch}${o.quick ? ', --quick' : ''}\n`);
  for (const s of SECTIONS) {
    if (o.only ? !o.only.has(s.name) : s.optIn) continue;
    const t0 = performance.now();
    try {
      const r = await s.run(o);
      if (r) console.log(`## ${r.title}\n\n${r.markdown}\n\n_(${s.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)_\n`);
    } catch (err) {
      console.log(`## ${s.name}\n\n**failed**: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  }
}

await main();
