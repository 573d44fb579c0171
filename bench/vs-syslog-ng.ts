/**
 * Side by side with syslog-ng (`npm run bench -- --vs syslog-ng`): the same generated nginx log,
 * the same counting collector, an equivalent syslog-ng configuration (file source, regexp-parser
 * for the combined format, kv-parser for the query, date-parser, the same two rules as a
 * template, a JSON body in batches of 250 with 2 workers). Runs alternate, and the figure that
 * holds on a noisy machine is the ratio of the medians. syslog-ng comes from Debian's
 * syslog-ng-core and syslog-ng-mod-http, installed with apt-get when running as root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CountingCollector, WRITE_KEY } from './collector.js';
import { median, runE2e, type E2eResult } from './e2e.js';
import { generateLog, type GeneratedLog } from './gen.js';

const SYSLOG_NG = '/usr/sbin/syslog-ng';

export interface SyslogNgResult {
  linesPerSec: number;
  cpuUsPerLine: number;
  peakRssMb: number;
  requests: number;
}

function httpModulePresent(): boolean {
  try {
    const dirs = execFileSync('sh', ['-c', 'ls -d /usr/lib/syslog-ng/*/ /usr/lib/*/syslog-ng/ 2>/dev/null || true'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    return dirs.some((d) => existsSync(path.join(d, 'libhttp.so')));
  } catch {
    return false;
  }
}

/** Makes sure syslog-ng with its http module is there; returns why not when it cannot be. */
export function ensureSyslogNg(): string | undefined {
  if (existsSync(SYSLOG_NG) && httpModulePresent()) return undefined;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'syslog-ng is not installed and this is not root on Linux (apt-get install syslog-ng-core syslog-ng-mod-http)';
  const apt = (args: string[], timeoutMs: number): void => {
    execFileSync('apt-get', args, { stdio: 'ignore', timeout: timeoutMs, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  const install = ['install', '-y', '-q', '--no-install-recommends', 'syslog-ng-core', 'syslog-ng-mod-http'];
  try {
    apt(install, 300_000);
  } catch {
    try {
      apt(['update', '-q'], 120_000);
      apt(install, 300_000);
    } catch (err) {
      return `apt-get could not install syslog-ng-core and syslog-ng-mod-http: ${(err as Error).message.slice(0, 200)}`;
    }
  }
  return existsSync(SYSLOG_NG) && httpModulePresent() ? undefined : 'syslog-ng installed but its http module is missing';
}

/** The syslog-ng configuration equivalent to bench/e2e.ts's tailship configuration. */
export function syslogNgConfig(logFile: string, url: string): string {
  const regex =
    '^(?<remote_addr>[^ ]*) - (?<remote_user>[^ ]*) \\[(?<time_local>[^\\]]*)\\] "(?<request_method>[^ ]*) (?<request_path>[^ ?"]*)(?:\\?(?<query>[^ "]*))? (?<protocol>[^"]*)" (?<status>[0-9]+) (?<body_bytes_sent>[0-9]+) "(?<http_referer>[^"]*)" "(?<http_user_agent>[^"]*)"$';
  const body =
    '$(format-json --omit-empty-values type=track messageId=$(uuid) event=$(if ("${n.status}" >= 500) "Server Error" "Page Requested") ' +
    'userId=${q.uid} anonymousId=${n.remote_addr} originalTimestamp=${ISODATE} channel=server ' +
    'context.ip=${n.remote_addr} context.userAgent=${n.http_user_agent} context.library.name=syslog-ng ' +
    'properties.path=${n.request_path} properties.status=int(${n.status}) properties.bytes=int(${n.body_bytes_sent}))';
  return `@version: 3.38
options { stats_freq(0); log-msg-size(65536); };
source s_file { file("${logFile}" flags(no-parse) follow-freq(0.05) log-fetch-limit(1000) log-iw-size(10000)); };
parser p_nginx {
  regexp-parser(prefix("n.") patterns('${regex}'));
  kv-parser(prefix("q.") pair-separator("&") value-separator("=") template("\${n.query}"));
  date-parser(format("%d/%b/%Y:%H:%M:%S %z") template("\${n.time_local}"));
};
destination d_http {
  http(url("${url}/v1/batch") method("POST") user("${WRITE_KEY}") password("")
    headers("Content-Type: application/json")
    body-prefix('{"batch":[') delimiter(",") body-suffix(']}')
    body('${body}')
    batch-lines(250) batch-bytes(512000) batch-timeout(5000) workers(2));
};
# flow-control: without it syslog-ng drops messages when the destination's queue is full.
log { source(s_file); parser(p_nginx); destination(d_http); flags(flow-control); };
`;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads), peak and current RSS of a live process, from /proc. */
export function procUsage(pid: number): { cpuS: number; hwmKb: number; rssKb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    return { cpuS, hwmKb: hwm ? Number(hwm[1]) : 0, rssKb: rss ? Number(rss[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** Rejects when the collector has received nothing new for `ms`. */
export async function stalled(collector: CountingCollector, ms: number, done: { value: boolean }, who = 'syslog-ng'): Promise<void> {
  let last = -1;
  let since = performance.now();
  while (!done.value) {
    await new Promise((r) => setTimeout(r, 500));
    if (collector.messages !== last) {
      last = collector.messages;
      since = performance.now();
    } else if (performance.now() - since > ms) {
      throw new Error(`${who} delivered ${collector.messages} messages and then nothing for ${ms / 1000} s`);
    }
  }
}

/** One syslog-ng run from a fresh persist file until the collector has every line. */
export async function runSyslogNg(log: GeneratedLog, timeoutMs = 180_000): Promise<SyslogNgResult> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tailship-sng-'));
  const collector = await new CountingCollector({ writeKey: WRITE_KEY }).start();
  let stop = async (): Promise<void> => {};
  try {
    const conf = path.join(work, 'syslog-ng.conf');
    writeFileSync(conf, syslogNgConfig(log.file, collector.url));
    const t0 = performance.now();
    const child = spawn(SYSLOG_NG, ['-F', '-f', conf, '-R', path.join(work, 'persist'), '-p', path.join(work, 'pid'), '-c', path.join(work, 'ctl'), '--no-caps'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    let exited = false;
    child.on('exit', () => (exited = true));
    stop = async () => {
      if (exited) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    };
    let last = { cpuS: 0, hwmKb: 0, rssKb: 0 };
    const sampler = setInterval(() => {
      const u = child.pid !== undefined ? procUsage(child.pid) : undefined;
      if (u) last = u;
    }, 100);
    const done = { value: false };
    try {
      await Promise.race([
        collector.waitFor(log.lines, timeoutMs),
        stalled(collector, 20_000, done),
        new Promise((_, reject) => child.on('exit', (code) => reject(new Error(`syslog-ng exited with ${code}: ${stderr.trim()}`)))),
      ]);
    } finally {
      done.value = true;
      clearInterval(sampler);
    }
    const u = child.pid !== undefined ? procUsage(child.pid) : undefined;
    if (u) last = u;
    await stop();
    return {
      linesPerSec: Math.round(log.lines / ((collector.lastAt - t0) / 1000)),
      cpuUsPerLine: (last.cpuS * 1e6) / log.lines,
      peakRssMb: last.hwmKb / 1024,
      requests: collector.requests,
    };
  } finally {
    await stop();
    await collector.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export async function benchVsSyslogNg(opts: { quick?: boolean } = {}): Promise<{ title: string; markdown: string }> {
  const why = ensureSyslogNg();
  if (why) return { title: 'tailship vs syslog-ng', markdown: `_skipped: ${why}_` };
  const version = execFileSync(SYSLOG_NG, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? 'syslog-ng';
  const lines = opts.quick ? 200_000 : 1_000_000;
  const rounds = opts.quick ? 1 : 3;
  const log = generateLog(lines);
  try {
    const ts: E2eResult[] = [];
    const sn: SyslogNgResult[] = [];
    const rows: string[] = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so a trend in the machine's load falls on both.
      const pair = i % 2 === 0 ? ['t', 's'] : ['s', 't'];
      for (const who of pair) {
        if (who === 't') {
          const r = await runE2e(log);
          ts.push(r);
          rows.push(`| ${i + 1} | tailship | ${r.linesPerSec.toLocaleString('en-US')} | ${r.cpuUsPerLine.toFixed(2)} | ${r.peakRssMb.toFixed(0)} |`);
        } else {
          const r = await runSyslogNg(log);
          sn.push(r);
          rows.push(`| ${i + 1} | syslog-ng | ${r.linesPerSec.toLocaleString('en-US')} | ${r.cpuUsPerLine.toFixed(2)} | ${r.peakRssMb.toFixed(0)} |`);
        }
      }
    }
    const tl = median(ts.map((r) => r.linesPerSec));
    const sl = median(sn.map((r) => r.linesPerSec));
    const tc = median(ts.map((r) => r.cpuUsPerLine));
    const sc = median(sn.map((r) => r.cpuUsPerLine));
    return {
      title: `tailship vs ${version.trim()}: ${lines.toLocaleString('en-US')} lines, ${rounds} alternating rounds`,
      markdown: [
        '| round | shipper | lines/s | CPU µs/line | peak RSS MB |',
        '|---|---|---:|---:|---:|',
        ...rows,
        '',
        `**Ratio tailship / syslog-ng: ${(tl / sl).toFixed(2)}× lines/s** (medians ${tl.toLocaleString('en-US')} / ${sl.toLocaleString('en-US')}); ` +
          `CPU per line ${tc.toFixed(2)} / ${sc.toFixed(2)} µs (syslog-ng / tailship: ${(sc / tc).toFixed(2)}×).`,
        '',
        'syslog-ng sends uncompressed JSON (3.38 has no request compression) with a random `$(uuid)` messageId and no durable queue; tailship gzips, derives deterministic ids and commits events with offsets in SQLite.',
      ].join('\n'),
    };
  } finally {
    rmSync(log.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchVsSyslogNg({ quick: process.argv.includes('--quick') });
  console.log(`## ${r.title}\n\n${r.markdown}`);
}
