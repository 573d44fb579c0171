/**
 * The deployment files, checked structurally (docker, hadolint and kubectl are not available
 * here): the systemd unit's key settings, the Dockerfile's stages and user, the Kubernetes
 * manifests' volumes, probes and limits; the configs embedded in the manifests load, compile
 * and turn a sample line into an event with the real loader, parser and mapper.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isParseError } from '../../parsers/types.js';
import { loadConfigText } from '../../src/config/load.js';
import { compilePipeline } from '../../src/daemon.js';
import { parseListen } from '../../src/ops/server.js';
import { ROOT } from '../helpers/daemon.js';

const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');

/** The node flags every deployment file sets. */
const NODE_OPTIONS = '--max-semi-space-size=2 --v8-pool-size=0';

/** `[Section]` → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(\w+)\]$/.exec(line);
    if (s) {
      sections.set(s[1]!, (current = new Map()));
      continue;
    }
    const eq = line.indexOf('=');
    expect(eq, `not a key=value line: ${line}`).toBeGreaterThan(0);
    expect(current, `key outside a section: ${line}`).toBeDefined();
    const key = line.slice(0, eq);
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

describe('deploy/systemd/tailship.service', () => {
  const unit = parseUnit(read('deploy/systemd/tailship.service'));
  const service = unit.get('Service')!;
  const one = (k: string): string | undefined => service.get(k)?.at(-1);

  it('runs tailship as a non-root user with a state directory and a restart policy', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(one('ExecStart')).toMatch(/tailship run --config \S+\.yaml$/);
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('DynamicUser') === 'yes' || (one('User') !== undefined && one('User') !== 'root')).toBe(true);
    expect(one('User')).not.toBe('root');
    expect(one('StateDirectory')).toBe('tailship');
    expect(one('Restart')).toBe('on-failure');
    expect(Number.parseInt(one('TimeoutStopSec') ?? '0', 10)).toBeGreaterThanOrEqual(15);
    expect(service.get('Environment')).toContain(`"NODE_OPTIONS=${NODE_OPTIONS}"`);
    expect(unit.get('Install')!.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('is hardened', () => {
    for (const [k, v] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes', RestrictSUIDSGID: 'yes' })) {
      expect(one(k), k).toBe(v);
    }
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('ReadOnlyPaths')).toContain('/var/log');
  });
});

describe('deploy/docker/Dockerfile', () => {
  const text = read('deploy/docker/Dockerfile');
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
  const stages: Array<{ from: string; name: string | undefined; steps: typeof instructions }> = [];
  for (const i of instructions) {
    if (i.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args)!;
      stages.push({ from: m[1]!, name: m[2], steps: [] });
    } else {
      expect(stages.length, `${i.op} before FROM`).toBeGreaterThan(0);
      stages.at(-1)!.steps.push(i);
    }
  }
  const build = stages.find((s) => s.name === 'build')!;
  const runtime = stages.at(-1)!;

  it('is multi-stage: toolchain and better-sqlite3 build in the build stage only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    for (const s of stages) expect(s.from).toMatch(/^node:20[-.\w]*$/);
    const buildRuns = build.steps.filter((s) => s.op === 'RUN').map((s) => s.args).join('\n');
    expect(buildRuns).toMatch(/g\+\+/);
    expect(buildRuns).toMatch(/npm (ci|rebuild)[^\n]*better-sqlite3|npm rebuild better-sqlite3/);
    expect(buildRuns).toContain('npm run build');
    expect(buildRuns).toContain('npm prune --omit=dev');
    const runtimeRuns = runtime.steps.filter((s) => s.op === 'RUN').map((s) => s.args).join('\n');
    expect(runtimeRuns).not.toMatch(/apt-get|g\+\+|npm (ci|install)/);
    expect(runtime.steps.some((s) => s.op === 'COPY' && s.args.startsWith('--from=build') && s.args.includes('node_modules'))).toBe(true);
  });

  it('runs as a non-root user, with the CLI as entry point', () => {
    const users = runtime.steps.filter((s) => s.op === 'USER').map((s) => s.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:.*)?$/);
    const entry = runtime.steps.find((s) => s.op === 'ENTRYPOINT')!;
    expect(JSON.parse(entry.args)).toEqual(['node', '/opt/tailship/bin/tailship.js']);
    expect(JSON.parse(runtime.steps.find((s) => s.op === 'CMD')!.args)[0]).toBe('run');
    // The same flags as the systemd unit, which the benchmarks read (bench/node-options.ts).
    expect(runtime.steps.filter((s) => s.op === 'ENV').map((s) => s.args)).toContain(`NODE_OPTIONS="${NODE_OPTIONS}"`);
  });

  it('copies only files that exist and that its .dockerignore lets through', () => {
    const ignore = read('deploy/docker/Dockerfile.dockerignore').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    for (const s of stages.flatMap((st) => st.steps).filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const sources = s.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(path.join(ROOT, src)), `COPY ${src}`).toBe(true);
        expect(ignore, `${src} is filtered out by the .dockerignore`).toContain(src);
      }
    }
  });
});

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: { template: { spec: PodSpec } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ name: string; containerPort: number }>;
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  containers: Container[];
  volumes: Array<{ name: string; emptyDir?: object; hostPath?: { path: string; type?: string }; configMap?: { name: string } }>;
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
}

function manifests(rel: string): K8sObject[] {
  const docs = parseAllDocuments(read(rel));
  for (const d of docs) expect(d.errors, `${rel}: YAML errors`).toEqual([]);
  return docs.map((d) => d.toJS() as K8sObject);
}

/** Checks what both examples need and returns the tailship container, its pod and its loaded config. */
async function checkTailship(rel: string, workload: string) {
  const objs = manifests(rel);
  const w = objs.find((o) => o.kind === workload)!;
  expect(w, `${rel} has a ${workload}`).toBeDefined();
  const pod = w.spec!.template.spec;
  const c = pod.containers.find((x) => x.name === 'tailship')!;
  expect(c.image).toMatch(/^tailship:/);
  expect(c.args).toEqual(['run', '--config', '/etc/tailship/tailship.yaml']);

  const configVolume = pod.volumes.find((v) => v.configMap)!;
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configVolume.configMap!.name)!;
  expect(c.volumeMounts).toContainEqual({ name: configVolume.name, mountPath: '/etc/tailship', readOnly: true });
  const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? 'from-a-secret']));
  const loaded = loadConfigText(cm.data!['tailship.yaml']!, `${rel}:tailship.yaml`, '/etc/tailship', env);
  for (const [i, p] of loaded.config.pipelines.entries()) await compilePipeline(loaded, p, i);
  expect(c.env?.find((e) => e.name === 'RUDDER_WRITE_KEY')?.valueFrom).toMatchObject({ secretKeyRef: { key: 'write-key' } });

  // Probes hit the endpoints on the port the config listens on, from outside the pod (0.0.0.0).
  const { host, port } = parseListen(loaded.config.server!.listen);
  expect(host).toBe('0.0.0.0');
  const metricsPort = c.ports!.find((p) => p.name === 'metrics')!;
  expect(metricsPort.containerPort).toBe(port);
  expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
  expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  expect(c.resources?.limits?.memory).toMatch(/^\d+Mi$/);
  expect(c.resources?.limits?.cpu).toBeDefined();
  expect(c.resources?.requests?.memory).toBeDefined();
  expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  // The grace period covers shutdown_timeout, so SIGTERM can drain the queue.
  expect((pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(loaded.config.shutdown_timeout);
  // The state directory is a mounted, writable volume (the root file system is read-only).
  const stateMount = c.volumeMounts!.find((m) => m.mountPath === loaded.config.state_dir)!;
  expect(stateMount).toBeDefined();
  expect(stateMount.readOnly).toBeUndefined();
  return { pod, c, loaded, stateVolume: pod.volumes.find((v) => v.name === stateMount.name)! };
}

describe('deploy/kubernetes', () => {
  it('sidecar: nginx and tailship share an emptyDir log volume', async () => {
    const { pod, c, loaded } = await checkTailship('deploy/kubernetes/sidecar.yaml', 'Deployment');
    const logs = pod.volumes.find((v) => v.name === 'nginx-logs')!;
    expect(logs.emptyDir).toBeDefined();
    const nginx = pod.containers.find((x) => x.name === 'nginx')!;
    expect(nginx.volumeMounts).toContainEqual({ name: 'nginx-logs', mountPath: '/var/log/nginx' });
    expect(c.volumeMounts).toContainEqual({ name: 'nginx-logs', mountPath: '/var/log/nginx', readOnly: true });
    expect(loaded.config.pipelines[0]!.inputs[0]!.paths).toEqual(['/var/log/nginx/access.log']);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
  });

  it('DaemonSet: /var/log/containers with the CRI parser, hostPath state, and a CRI line becomes an event', async () => {
    const { pod, c, loaded, stateVolume } = await checkTailship('deploy/kubernetes/daemonset.yaml', 'DaemonSet');
    expect(stateVolume.hostPath).toEqual({ path: '/var/lib/tailship', type: 'DirectoryOrCreate' });
    const varlog = pod.volumes.find((v) => v.hostPath?.path === '/var/log')!;
    expect(c.volumeMounts).toContainEqual({ name: varlog.name, mountPath: '/var/log', readOnly: true });
    const p = loaded.config.pipelines[0]!;
    expect(p.inputs[0]!.paths).toEqual(['/var/log/containers/*.log']);
    expect(p.parser).toMatchObject({ type: 'cri', message_parser: { type: 'json' } });

    const { parser, mapper } = await compilePipeline(loaded, p, 0);
    const file = '/var/log/containers/shop-api-7d9f_prod_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log';
    const line = '2025-03-12T14:05:02.123456789Z stdout F {"event":"Order Completed","user_id":"u-42","total":12.5}';
    const record = parser.parse(line, { file, offset: 0 });
    expect(isParseError(record)).toBe(false);
    const [out] = mapper.map(record as Exclude<typeof record, { reason: string }>, { fileKey: 'k', file, offset: 0, readAtMs: Date.now() });
    expect(out).toMatchObject({ ok: true, event: { type: 'track', event: 'Order Completed', userId: 'u-42', properties: { namespace: 'prod', container: 'api' } } });
    const plain = parser.parse('2025-03-12T14:05:02.123456789Z stderr F plain text, not JSON', { file, offset: 0 });
    expect(mapper.map(plain as Exclude<typeof plain, { reason: string }>, { fileKey: 'k', file, offset: 100, readAtMs: Date.now() })).toEqual([]);
  });
});
