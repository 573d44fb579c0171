/**
 * The text of one `tailship top` screen from a daemon's /api/status: the process, each file
 * (lag, lines behind, read rate, state) and each output (delivery rate, queue, retries, dead
 * letters, last error), sorted as asked and cut to the terminal's width.
 */
import type { LiveStatus } from './live-status.js';

export const SORTS = ['lag', 'rate', 'name'] as const;
export type TopSort = (typeof SORTS)[number];

export interface TopViewOptions {
  sort: TopSort;
  /** Terminal columns (lines are cut to it); undefined: not cut. */
  width?: number | undefined;
  /** The last refresh failed: shown above the last figures. */
  error?: string | undefined;
  /** Key help at the bottom (on a terminal). */
  keys?: boolean;
}

export function renderTop(s: LiveStatus, o: TopViewOptions): string {
  const out: string[] = [];
  const clock = s.now.slice(11, 19);
  out.push(
    `tailship ${s.version}  up ${age(s.uptimeSec)}  CPU ${s.process.cpuPercent.toFixed(1)}%  RSS ${bytes(s.process.rssBytes)}  ` +
      `reading ${s.backpressure.paused ? 'PAUSED (backpressure)' : 'on'}  ${clock} UTC  sort: ${o.sort}`,
  );
  if (o.error) out.push(`! ${o.error} (showing the last figures)`);
  out.push('');

  const files = s.pipelines.flatMap((p) => p.files.map((f) => ({ p, f })));
  files.sort((a, b) =>
    o.sort === 'lag' ? (b.f.lagBytes ?? -1) - (a.f.lagBytes ?? -1) || a.f.path.localeCompare(b.f.path)
    : o.sort === 'rate' ? b.f.readBytesPerSec - a.f.readBytesPerSec || a.f.path.localeCompare(b.f.path)
    : a.p.name.localeCompare(b.p.name) || a.f.path.localeCompare(b.f.path),
  );
  const pipelineLines = s.pipelines.map((p) => `${p.name}: ${num(p.linesPerSec)} lines/s, ${bytes(p.readBytesPerSec)}/s, dead letters parse ${num(p.deadLetters.parse)} mapping ${num(p.deadLetters.mapping)}`);
  out.push(`PIPELINES`, ...pipelineLines.map((l) => '  ' + l), '');
  out.push('FILES');
  out.push(
    ...table(
      ['PIPELINE', 'STATE', 'LAG', '≈LINES', 'READ/S', 'FILE'],
      files.map(({ p, f }) => [
        p.name,
        f.state === 'rotated-unread' ? `rotated-unread ${bytes(f.unreadBytes ?? 0)} lost` : f.state,
        bytes(f.lagBytes),
        f.linesBehindEstimate === null ? '-' : num(f.linesBehindEstimate),
        `${bytes(f.readBytesPerSec)}/s`,
        f.path,
      ]),
      [false, false, true, true, true, false],
    ),
  );
  out.push('', 'OUTPUTS');
  const outputs = [...s.outputs].sort((a, b) =>
    o.sort === 'lag' ? b.queue.bytes - a.queue.bytes || b.queue.events - a.queue.events
    : o.sort === 'rate' ? b.eventsPerSec - a.eventsPerSec
    : `${a.pipeline}/${a.output}`.localeCompare(`${b.pipeline}/${b.output}`),
  );
  out.push(
    ...table(
      ['OUTPUT', 'EVENTS/S', 'SENT', 'QUEUED', 'Q BYTES', 'OLDEST', 'RETRIES', 'DEAD LETTERS', 'LAST ERROR'],
      outputs.map((x) => [
        `${x.pipeline}/${x.output}`,
        num(x.eventsPerSec),
        num(x.eventsSent),
        num(x.queue.events),
        bytes(x.queue.bytes),
        x.queue.oldestAgeSec === null ? '-' : age(x.queue.oldestAgeSec),
        num(x.retries),
        Object.entries(x.deadLetters).map(([k, n]) => `${k} ${n}`).join(', ') || '0',
        x.lastError ? x.lastError.replace(/\s+/g, ' ') : '-',
      ]),
      [false, true, true, true, true, true, true, false, false],
    ),
  );
  if (s.deadLetters.latest.length) {
    out.push('', 'LATEST DEAD LETTERS');
    for (const d of s.deadLetters.latest.slice(0, 3)) out.push(`  ${d.at.slice(11, 19)} ${d.pipeline}${d.output ? '/' + d.output : ''} [${d.kind}] ${d.reason.replace(/\s+/g, ' ')}`);
  }
  if (o.keys) out.push('', 'keys: l sort by lag · r by rate · n by name · s next sort · q quit');
  return out.map((l) => (o.width && l.length > o.width ? l.slice(0, Math.max(1, o.width - 1)) + '…' : l)).join('\n');
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string =>
    '  ' + r.map((c, i) => (i === r.length - 1 ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

function num(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

function age(sec: number): string {
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${sec % 60}s`;
  return `${Math.floor(sec / 3600)}h${Math.floor((sec % 3600) / 60)}m`;
}
