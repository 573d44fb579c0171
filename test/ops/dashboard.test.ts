/**
 * The Grafana dashboard queries only metrics a running daemon exports (every metric name in its
 * queries, read from the dashboard itself, appears in /metrics of a tailship child process),
 * and the PodMonitor selects the DaemonSet's pods on a port they have.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Collector } from '../helpers/collector.js';
import { nginxLine, testConfig } from '../helpers/config.js';
import { killIfRunning, ROOT, startTailship, type Child } from '../helpers/daemon.js';
import { freePort } from '../helpers/port.js';
import { tempDir } from '../helpers/tmp.js';

const DASHBOARD = path.join(ROOT, 'deploy/grafana/tailship-dashboard.json');

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
let child: Child | undefined;

beforeEach(async () => {
  tmp = tempDir();
  collector = await new Collector().start();
});

afterEach(async () => {
  await killIfRunning(child);
  child = undefined;
  await collector.stop();
  tmp.cleanup();
});

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

/** Every metric name the dashboard's queries and variables use. */
function dashboardMetrics(): Map<string, string> {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[]; templating: { list: Array<{ name: string; query?: unknown }> } };
  const queries: Array<[string, string]> = [
    ...d.panels.flatMap((p) => (p.targets ?? []).map((t): [string, string] => [p.title, t.expr])),
    ...d.templating.list.filter((v) => typeof v.query === 'object').map((v): [string, string] => [`variable ${v.name}`, (v.query as { query: string }).query]),
  ];
  const names = new Map<string, string>();
  for (const [where, q] of queries) for (const m of q.matchAll(/\b((?:tailship|process)_[a-z0-9_]+)\b/g)) names.set(m[1]!, where);
  return names;
}

it('every metric the Grafana dashboard queries exists in /metrics of a running daemon', async () => {
  const used = dashboardMetrics();
  expect(used.size).toBeGreaterThan(10);
  const port = await freePort();
  writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
  const config = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(config, `server: { listen: "127.0.0.1:${port}" }\n` + testConfig({ stateDir: path.join(tmp.dir, 'state'), logGlob: path.join(tmp.dir, '*.log'), url: collector.url }));
  child = startTailship(['run', '--config', config]);
  await collector.waitFor(() => collector.accepted >= 1, 30_000, 'the first delivery');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const families = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const missing: string[] = [];
  for (const [name, where] of used) {
    const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const ok = families.has(name) || (family !== name && families.get(family) === 'histogram');
    if (!ok) missing.push(`${name} (panel "${where}")`);
  }
  expect(missing).toEqual([]);
});

it('the PodMonitor scrapes /metrics on a port the DaemonSet pods have, with their labels', () => {
  const [monitor] = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes/podmonitor.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const ds = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes/daemonset.yaml'), 'utf8'))
    .map((d) => d.toJS() as Record<string, any>)
    .find((d) => d.kind === 'DaemonSet')!;
  expect(monitor!.kind).toBe('PodMonitor');
  expect(monitor!.apiVersion).toBe('monitoring.coreos.com/v1');
  expect(monitor!.metadata.namespace).toBe(ds.metadata.namespace);
  const podLabels = ds.spec.template.metadata.labels as Record<string, string>;
  for (const [k, v] of Object.entries(monitor!.spec.selector.matchLabels as Record<string, string>)) expect(podLabels[k]).toBe(v);
  const ports = (ds.spec.template.spec.containers as Array<{ ports?: Array<{ name: string }> }>).flatMap((c) => c.ports ?? []).map((p) => p.name);
  for (const e of monitor!.spec.podMetricsEndpoints as Array<{ port: string; path: string }>) {
    expect(ports).toContain(e.port);
    expect(e.path).toBe('/metrics');
  }
});
