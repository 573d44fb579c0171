/**
 * The deployment files. The systemd unit passes `systemd-analyze verify` with no warning (where
 * systemd is installed or installable) and validates before it starts or reloads. The
 * Dockerfile is checked statically (no container engine here): its stages, labels and user,
 * every COPY source exists and passes the .dockerignore, and its build stage, replayed on the
 * files it copies, compiles everything the runtime stage copies. The Kubernetes manifests are
 * validated against the Kubernetes API schemas (kubernetes-models), and the configs embedded in
 * them run with the real daemon against sample lines in the log format their images write.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NGINX_FORMATS, normalizeNginxFormat } from '../../parsers/nginx.js';
import { isParseError } from '../../parsers/types.js';
import { loadConfigText } from '../../src/config/load.js';
import { compilePipeline } from '../../src/daemon.js';
import { parseListen } from '../../src/ops/server.js';
import { Collector } from '../helpers/collector.js';
import { ROOT, runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const read = (rel: string): string => readFileSync(path.join(ROOT, rel), 'utf8');

/** The node flags and the malloc setting every deployment file sets (bin/tailship.js's RUN_FLAGS and RUN_ENV). */
const NODE_OPTIONS = '--max-semi-space-size=2 --v8-pool-size=0';
const MALLOC_MMAP_THRESHOLD = '131072';

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

describe('bin/tailship.js', () => {
  it('restarts `run` (where node has execve) with the flags and the malloc setting the deployment files set', () => {
    const bin = read('bin/tailship.js');
    const flags = /^const RUN_FLAGS = (\[.*\]);$/m.exec(bin)?.[1];
    const env = /^const RUN_ENV = (\{.*\});$/m.exec(bin)?.[1];
    expect((JSON.parse(flags!.replace(/'/g, '"')) as string[]).join(' ')).toBe(NODE_OPTIONS);
    expect(JSON.parse(env!.replace(/(\w+):/g, '"$1":').replace(/'/g, '"'))).toEqual({ MALLOC_MMAP_THRESHOLD_: MALLOC_MMAP_THRESHOLD });
  });
});

describe('deploy/systemd/tailship.service', () => {
  const unit = parseUnit(read('deploy/systemd/tailship.service'));
  const service = unit.get('Service')!;
  const one = (k: string): string | undefined => service.get(k)?.at(-1);

  it('runs tailship as a non-root user with a state directory and a restart policy', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(one('ExecStart')).toMatch(/tailship run --config \S+\.yaml$/);
    // A bad config fails the start and the reload instead of being reported as success.
    const config = /--config (\S+)$/.exec(one('ExecStart')!)![1];
    expect(service.get('ExecStartPre')).toEqual([`/usr/bin/env tailship validate --config ${config}`]);
    expect(service.get('ExecReload')).toEqual([`/usr/bin/env tailship validate --config ${config}`, '/bin/kill -HUP $MAINPID']);
    // Start limits belong to [Unit]; in [Service] systemd ignores them and restarts forever.
    expect(unit.get('Unit')!.get('StartLimitIntervalSec')).toEqual(['300']);
    expect(service.has('StartLimitIntervalSec')).toBe(false);
    for (const doc of unit.get('Unit')!.get('Documentation')!) expect(doc).toMatch(/^file:\/usr\/local\/lib\/node_modules\/tailship\/docs\/\w+\.md$/);
    for (const doc of unit.get('Unit')!.get('Documentation')!) expect(existsSync(path.join(ROOT, doc.replace(/^.*\/tailship\//, '')))).toBe(true);
    expect(one('DynamicUser') === 'yes' || (one('User') !== undefined && one('User') !== 'root')).toBe(true);
    expect(one('User')).not.toBe('root');
    expect(one('StateDirectory')).toBe('tailship');
    expect(one('Restart')).toBe('on-failure');
    expect(Number.parseInt(one('TimeoutStopSec') ?? '0', 10)).toBeGreaterThanOrEqual(15);
    expect(service.get('Environment')).toContain(`"NODE_OPTIONS=${NODE_OPTIONS}"`);
    expect(service.get('Environment')).toContain(`MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD}`);
    expect(unit.get('Install')!.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('is hardened', () => {
    for (const [k, v] of Object.entries({ NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes', RestrictSUIDSGID: 'yes' })) {
      expect(one(k), k).toBe(v);
    }
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('ReadOnlyPaths')).toContain('/var/log');
  });

  const analyze = ensureSystemdAnalyze();
  if (!analyze.bin) console.warn(`SKIPPING systemd-analyze verify: ${analyze.why}`);
  it.runIf(analyze.bin !== undefined)('passes systemd-analyze verify with no warning', () => {
    const tmp = tempDir('tailship-unit-');
    try {
      const unitFile = path.join(tmp.dir, 'tailship.service');
      cpSync(path.join(ROOT, 'deploy/systemd/tailship.service'), unitFile);
      const r = spawnSync(analyze.bin!, ['verify', unitFile], { encoding: 'utf8', timeout: 60_000 });
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
      // The check itself: the old unit's mistake, the start limit in [Service], is reported.
      const good = readFileSync(unitFile, 'utf8');
      writeFileSync(unitFile, good.replace('StartLimitIntervalSec=300\n', '').replace('RestartSec=5s\n', 'RestartSec=5s\nStartLimitIntervalSec=300\n'));
      const bad = spawnSync(analyze.bin!, ['verify', unitFile], { encoding: 'utf8', timeout: 60_000 });
      expect(bad.stderr).toContain("Unknown key 'StartLimitIntervalSec' in section [Service]");
    } finally {
      tmp.cleanup();
    }
  });
});

/** Finds systemd-analyze, installing systemd with apt-get when missing and possible; otherwise says why not. */
function ensureSystemdAnalyze(): { bin?: string; why?: string } {
  const find = (): string | undefined => ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
  if (find()) return { bin: find()! };
  if (process.platform !== 'linux') return { why: `systemd exists on Linux only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { why: 'systemd-analyze is not installed and the tests do not run as root (apt-get install -y systemd)' };
  try {
    const opts = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: 'pipe' as const, timeout: 300_000 };
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update'], opts);
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '--no-install-recommends', 'systemd'], opts);
  } catch (err) {
    return { why: `systemd could not be installed with apt-get: ${String(err).split('\n')[0]}` };
  }
  return find() ? { bin: find()! } : { why: 'apt-get installed systemd but systemd-analyze was not found' };
}

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
    expect(runtime.steps.filter((s) => s.op === 'ENV').map((s) => s.args)).toContain(`MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD}`);
  });

  /** The build context after the repository's .dockerignore (the last matching pattern wins). */
  const rules = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ keep: l.startsWith('!'), match: picomatch(l.replace(/^!/, ''), { dot: true }) }));
  const inContext = (rel: string): boolean => rules.reduce((kept, r) => (r.match(rel) ? r.keep : kept), true);
  function contextFiles(rel: string): string[] {
    const abs = path.join(ROOT, rel);
    if (!existsSync(abs)) return [];
    if (!statSync(abs).isDirectory()) return inContext(rel) ? [rel] : [];
    return readdirSync(abs, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
      .filter(inContext);
  }
  const copies = stages.flatMap((st) => st.steps.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from')).map((x) => ({ stage: st, sources: x.args.split(/\s+/).slice(0, -1), dest: x.args.split(/\s+/).at(-1)! })));

  it('copies only files that exist and that the .dockerignore lets through', () => {
    expect(existsSync(path.join(ROOT, 'deploy/docker/Dockerfile.dockerignore')), 'a BuildKit-only ignore file').toBe(false);
    expect(copies.length).toBeGreaterThan(3);
    for (const { sources } of copies) {
      for (const src of sources) {
        expect(existsSync(path.join(ROOT, src)), `COPY ${src}`).toBe(true);
        expect(contextFiles(src).length, `${src} is filtered out by the .dockerignore`).toBeGreaterThan(0);
      }
    }
    // What stays out of the context: dependencies, builds, tests, benchmarks, git.
    for (const out of ['node_modules/yaml/package.json', 'dist/src/cli.js', 'test/ops/deploy.test.ts', 'bench/run.ts', '.git/HEAD', 'fixtures/nginx-combined.log']) expect(inContext(out), out).toBe(false);
  });

  it('builds only what runs: no benchmarks, and the demo config finds its fixtures', () => {
    const all = copies.flatMap((c) => c.sources);
    expect(all.filter((src) => /^(bench|scripts|test)\b/.test(src))).toEqual([]);
    // config/demo.yaml reads ../fixtures/demo/access.log: it is copied next to config/.
    const runtimeCopies = copies.filter((c) => c.stage === runtime);
    const config = runtimeCopies.find((c) => c.sources.includes('config'))!;
    const fixtures = runtimeCopies.find((c) => c.sources.includes('fixtures/demo'))!;
    expect(fixtures).toBeDefined();
    expect(path.posix.resolve('/opt/tailship', config.dest, '../fixtures/demo')).toBe(path.posix.resolve('/opt/tailship', fixtures.dest));
    expect(read('config/demo.yaml')).toContain('"../fixtures/demo/access.log"');
  });

  it('labels the image with the OCI annotations, its version matching package.json', () => {
    const labels = new Map<string, string>();
    for (const l of runtime.steps.filter((x) => x.op === 'LABEL')) for (const m of l.args.matchAll(/([\w.]+)="([^"]*)"/g)) labels.set(m[1]!, m[2]!);
    const pkg = JSON.parse(read('package.json')) as { version: string; license: string; description: string };
    expect(labels.get('org.opencontainers.image.title')).toBe('tailship');
    expect(labels.get('org.opencontainers.image.version')).toBe(pkg.version);
    expect(labels.get('org.opencontainers.image.licenses')).toBe(pkg.license);
    expect(labels.get('org.opencontainers.image.description')).toBe(pkg.description);
    expect(labels.get('org.opencontainers.image.base.name')).toBe(`docker.io/library/${runtime.from}`);
  });

  it("replayed on the files it copies, the build stage compiles everything the runtime stage copies from it", () => {
    const tmp = tempDir('tailship-docker-build-');
    try {
      const work = path.join(tmp.dir, 'src');
      for (const { stage, sources, dest } of copies) {
        if (stage !== build) continue;
        for (const src of sources) {
          // Docker's COPY: a directory's contents go into dest; a file goes into dest/ or to dest.
          const isDir = statSync(path.join(ROOT, src)).isDirectory();
          for (const f of contextFiles(src)) {
            const target = isDir ? path.join(work, dest, path.relative(src, f)) : dest.endsWith('/') ? path.join(work, dest, path.basename(f)) : path.join(work, dest);
            mkdirSync(path.dirname(target), { recursive: true });
            cpSync(path.join(ROOT, f), target);
          }
        }
      }
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
      const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: work, encoding: 'utf8', timeout: 300_000 });
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
      expect(existsSync(path.join(work, 'dist/bench'))).toBe(false);
      for (const s of runtime.steps.filter((x) => x.op === 'COPY' && x.args.startsWith('--from=build'))) {
        const src = s.args.split(/\s+/)[1]!;
        expect(existsSync(path.join(work, path.relative('/src', src))), `COPY --from=build ${src}`).toBe(true);
      }
      expect(existsSync(path.join(work, 'dist/src/cli.js'))).toBe(true);
    } finally {
      tmp.cleanup();
    }
  }, 300_000);
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

/** The schema of each kind the manifests use, from the Kubernetes API's OpenAPI (kubernetes-models). */
const SCHEMAS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'scheduling.k8s.io/v1/PriorityClass': PriorityClass,
};

/** Parses a manifest file and validates every object against the Kubernetes API schema of its kind. */
function manifests(rel: string): K8sObject[] {
  const docs = parseAllDocuments(read(rel));
  for (const d of docs) expect(d.errors, `${rel}: YAML errors`).toEqual([]);
  const objs = docs.map((d) => d.toJS() as K8sObject & { apiVersion: string });
  for (const o of objs) {
    const Model = SCHEMAS[`${o.apiVersion}/${o.kind}`];
    expect(Model, `${rel}: ${o.apiVersion} ${o.kind} has no schema here`).toBeDefined();
    expect(() => new Model!(o as never).validate(), `${rel}: ${o.kind} ${o.metadata.name}`).not.toThrow();
  }
  return objs;
}

/**
 * The `log_format main` of /etc/nginx/nginx.conf in the official nginx image and in
 * nginxinc/nginx-unprivileged, which the sidecar runs: its access log is written in this format.
 */
const NGINX_IMAGE_LOG_FORMAT = `log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';`;

/** Renders one access-log line the way nginx does: each $variable replaced by its value, "-" when empty. */
function nginxWrites(directive: string, values: Record<string, string>): string {
  return normalizeNginxFormat(directive).format.replace(/\$(\w+)/g, (_, name: string) => values[name] || '-');
}

const SIDECAR_REQUESTS: Array<Record<string, string>> = [
  { remote_addr: '10.42.0.7', time_local: '12/Mar/2025:14:05:02 +0000', request: 'GET /products/shoes?color=red HTTP/1.1', status: '200', body_bytes_sent: '5123', http_referer: 'https://shop.example.com/', http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0', http_x_forwarded_for: '198.51.100.7, 10.0.0.1' },
  { remote_addr: '10.42.0.8', time_local: '12/Mar/2025:14:05:03 +0000', request: 'GET /healthz HTTP/1.1', status: '200', body_bytes_sent: '2', http_user_agent: 'kube-probe/1.30' },
  { remote_addr: '10.42.0.7', time_local: '12/Mar/2025:14:05:04 +0000', request: 'POST /checkout HTTP/2.0', status: '502', body_bytes_sent: '157', remote_user: 'alice', http_user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)', http_x_forwarded_for: '203.0.113.9' },
];

/**
 * Runs the config embedded in a manifest with the real daemon (`validate`, then `run --once`)
 * on a log file written in its image's format, delivering to a loopback collector. Only what
 * cannot run here is changed: the host paths move under a temporary directory, the ops server
 * listens on a free loopback port, and `start_at: end` reads from the beginning.
 */
async function runEmbeddedConfig(configText: string, hostPaths: Record<string, string>, file: string, lines: string[], env: Record<string, string>) {
  const tmp = tempDir('tailship-manifest-');
  const collector = await new Collector({ writeKey: 'test-write-key' }).start();
  try {
    let text = configText.replace('0.0.0.0:9464', '127.0.0.1:0').replace('start_at: end', 'start_at: beginning');
    for (const [from, to] of Object.entries(hostPaths)) text = text.replaceAll(from, path.join(tmp.dir, to));
    const logFile = path.join(tmp.dir, file);
    mkdirSync(path.dirname(logFile), { recursive: true });
    writeFileSync(logFile, lines.map((l) => `${l}\n`).join(''));
    const configFile = path.join(tmp.dir, 'tailship.yaml');
    writeFileSync(configFile, text);
    const runEnv = { ...env, RUDDER_DATA_PLANE_URL: collector.url, RUDDER_WRITE_KEY: 'test-write-key' };
    const validate = await runTailship(['validate', '--config', configFile], runEnv);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    const once = await runTailship(['run', '--config', configFile, '--once'], runEnv);
    expect(once.code, once.stderr).toBe(0);
    const status = await runTailship(['status', '--config', configFile, '--json'], runEnv);
    return { messages: [...collector.messages], status: status.stdout };
  } finally {
    await collector.stop();
    tmp.cleanup();
  }
}

/** Checks what both examples need and returns the tailship container, its pod, its ConfigMap text and its loaded config. */
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
  const configText = cm.data!['tailship.yaml']!;
  const loaded = loadConfigText(configText, `${rel}:tailship.yaml`, '/etc/tailship', env);
  for (const [i, p] of loaded.config.pipelines.entries()) await compilePipeline(loaded, p, i);
  expect(c.env?.find((e) => e.name === 'RUDDER_WRITE_KEY')?.valueFrom).toMatchObject({ secretKeyRef: { key: 'write-key' } });

  // The liveness probe hits /healthz on the port the config listens on, from outside the pod (0.0.0.0).
  const { host, port } = parseListen(loaded.config.server!.listen);
  expect(host).toBe('0.0.0.0');
  const metricsPort = c.ports!.find((p) => p.name === 'metrics')!;
  expect(metricsPort.containerPort).toBe(port);
  expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
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
  return { objs, pod, c, env, configText, loaded, stateVolume: pod.volumes.find((v) => v.name === stateMount.name)! };
}

describe('deploy/kubernetes', () => {
  it('sidecar: nginx and tailship share an emptyDir log volume; no readiness probe can take the web pod out of its Service', async () => {
    const { pod, c, loaded } = await checkTailship('deploy/kubernetes/sidecar.yaml', 'Deployment');
    const logs = pod.volumes.find((v) => v.name === 'nginx-logs')!;
    expect(logs.emptyDir).toBeDefined();
    const nginx = pod.containers.find((x) => x.name === 'nginx')!;
    expect(nginx.volumeMounts).toContainEqual({ name: 'nginx-logs', mountPath: '/var/log/nginx' });
    expect(c.volumeMounts).toContainEqual({ name: 'nginx-logs', mountPath: '/var/log/nginx', readOnly: true });
    expect(loaded.config.pipelines[0]!.inputs[0]!.paths).toEqual(['/var/log/nginx/access.log']);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    // A pod is in its Service only while every container is ready: /readyz fails during a
    // collector outage, so the sidecar has no readiness probe on it.
    expect(c.readinessProbe?.httpGet.path).not.toBe('/readyz');
  });

  it("sidecar: the embedded config, run by the daemon, turns lines in its nginx image's own log format into events", async () => {
    const { pod, env, configText, loaded } = await checkTailship('deploy/kubernetes/sidecar.yaml', 'Deployment');
    expect(pod.containers.find((x) => x.name === 'nginx')!.image).toMatch(/^nginxinc\/nginx-unprivileged:/);
    const lines = SIDECAR_REQUESTS.map((v) => nginxWrites(NGINX_IMAGE_LOG_FORMAT, v));
    expect(lines[0]).toBe('10.42.0.7 - - [12/Mar/2025:14:05:02 +0000] "GET /products/shoes?color=red HTTP/1.1" 200 5123 "https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0" "198.51.100.7, 10.0.0.1"');

    // `combined`, the format the example used to name, makes every such line a parse error.
    expect(normalizeNginxFormat(NGINX_IMAGE_LOG_FORMAT).format).toBe(NGINX_FORMATS[(loaded.config.pipelines[0]!.parser as unknown as { format: string }).format]);
    const combined = loadConfigText(configText.replace('format: main', 'format: combined'), 'sidecar', '/etc/tailship', env);
    const asCombined = await compilePipeline(combined, combined.config.pipelines[0]!, 0);
    for (const l of lines) expect(isParseError(asCombined.parser.parse(l, { file: 'access.log', offset: 0 }))).toBe(true);

    const { messages, status } = await runEmbeddedConfig(configText, { '/var/log/nginx': 'nginx', '/var/lib/tailship': 'state' }, 'nginx/access.log', lines, env);
    expect(messages.map((m) => [m.event, (m.properties as { path: string }).path, (m.properties as { status: unknown }).status])).toEqual([
      ['Page Requested', '/products/shoes', 200],
      ['Page Requested', '/healthz', 200],
      ['Server Error', '/checkout', 502],
    ]);
    expect(messages[0]).toMatchObject({ anonymousId: '10.42.0.7', originalTimestamp: '2025-03-12T14:05:02.000Z', context: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0' } });
    expect(JSON.parse(status)).toMatchObject({ deadLetters: [] });
  }, 120_000);

  it('DaemonSet: /var/log/containers with the CRI parser, hostPath state, its own PriorityClass', async () => {
    const { objs, pod, c, loaded, stateVolume } = await checkTailship('deploy/kubernetes/daemonset.yaml', 'DaemonSet');
    expect(stateVolume.hostPath).toEqual({ path: '/var/lib/tailship', type: 'DirectoryOrCreate' });
    const varlog = pod.volumes.find((v) => v.hostPath?.path === '/var/log')!;
    expect(c.volumeMounts).toContainEqual({ name: varlog.name, mountPath: '/var/log', readOnly: true });
    const p = loaded.config.pipelines[0]!;
    expect(p.inputs[0]!.paths).toEqual(['/var/log/containers/*.log']);
    expect(p.parser).toMatchObject({ type: 'cri', message_parser: { type: 'json' } });
    // Managed clusters (GKE) admit the system-* priority classes only in kube-system: the
    // DaemonSet names a class that the same file defines.
    const priority = (pod as PodSpec & { priorityClassName?: string }).priorityClassName;
    expect(priority).not.toMatch(/^system-/);
    expect(objs.find((o) => o.kind === 'PriorityClass' && o.metadata.name === priority)).toMatchObject({ value: expect.any(Number), globalDefault: false });
    // No Service routes to these pods: /readyz shows a node whose collector cannot deliver.
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('DaemonSet: the embedded config, run by the daemon, turns CRI lines of a container log into events', async () => {
    const { env, configText } = await checkTailship('deploy/kubernetes/daemonset.yaml', 'DaemonSet');
    const file = 'var/log/containers/shop-api-7d9f_prod_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log';
    const lines = [
      '2025-03-12T14:05:02.123456789Z stdout F {"event":"Order Completed","user_id":"u-42","total":12.5}',
      '2025-03-12T14:05:02.200000000Z stderr F plain text, not JSON',
      '2025-03-12T14:05:03.000000000Z stdout P {"event":"Signed Up",',
      '2025-03-12T14:05:03.000000001Z stdout F "user_id":"u-43"}',
    ];
    const { messages, status } = await runEmbeddedConfig(configText, { '/var/log/containers': 'var/log/containers', '/var/lib/tailship': 'state' }, file, lines, env);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({ type: 'track', event: 'Order Completed', userId: 'u-42', properties: { namespace: 'prod', pod: 'shop-api-7d9f', container: 'api' }, originalTimestamp: '2025-03-12T14:05:02.123Z' });
    expect(messages[1]).toMatchObject({ event: 'Signed Up', userId: 'u-43' });
    expect(JSON.parse(status)).toMatchObject({ deadLetters: [] });
  }, 120_000);
});
