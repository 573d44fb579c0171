/**
 * Walks the commands of README.md and docs/quickstart.md as written: every line of every `sh`
 * block is either run here, with the files the docs name (config/, deploy/), or, when it needs
 * something this machine does not have (sudo + systemd as PID 1, docker, a cluster), checked
 * against the files it uses: the names, paths, labels and ports it relies on. A command that
 * the walk does not know fails the test, so a new command in the docs needs a step here.
 *
 * What changes when a command runs here: /etc/tailship, /var/log/... and /var/lib/tailship move
 * into a temporary directory, the collector is a loopback one, and `tailship` is this
 * checkout's bin (test/lifecycle-daemon/package.test.ts installs the packed package with the
 * documented `npm pack` and `npm install -g`, and runs its bin).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Collector } from '../helpers/collector.js';
import { BIN, ROOT, assertBuilt } from '../helpers/daemon.js';
import { nginxLine } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';

interface Block {
  lang: string;
  text: string;
}

/** Fenced blocks, including those indented under list items. */
function blocks(rel: string): Block[] {
  const md = readFileSync(path.join(ROOT, rel), 'utf8');
  const out: Block[] = [];
  for (const m of md.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```/gm)) {
    const indent = m[1]!.length;
    out.push({ lang: m[2]!, text: m[3]!.split('\n').map((l) => l.slice(indent)).join('\n') });
  }
  return out;
}

/** The commands of a shell block: continuation lines joined, comments and blank lines dropped. */
function commands(text: string): string[] {
  return text
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.replace(/(^|\s+)#\s.*$/, '').trim())
    .filter(Boolean);
}

const DOCS = ['README.md', 'docs/quickstart.md'];
const all = DOCS.flatMap((doc) => blocks(doc).filter((b) => b.lang === 'sh').flatMap((b) => commands(b.text).map((c) => `${doc}: ${c}`)));
const walked = new Set<string>();
/** Marks the documented commands of `doc` that `match` selects as walked, and returns them. */
function take(doc: string, match: (c: string) => boolean): string[] {
  const found = all.filter((c) => c.startsWith(`${doc}: `) && match(c.slice(doc.length + 2)));
  expect(found.length, `${doc}: no command matches ${match.toString()}`).toBeGreaterThan(0);
  for (const c of found) walked.add(c);
  return found.map((c) => c.slice(doc.length + 2));
}

let tmp: ReturnType<typeof tempDir>;
let collector: Collector;
/** A PATH whose `tailship` is this checkout's bin. */
let PATH = '';

beforeAll(async () => {
  assertBuilt();
  tmp = tempDir('tailship-docs-walk-');
  collector = await new Collector({ writeKey: 'test-write-key' }).start();
  const shim = path.join(tmp.dir, 'bin');
  mkdirSync(shim);
  symlinkSync(BIN, path.join(shim, 'tailship'));
  PATH = `${shim}:${process.env.PATH ?? ''}`;
});

afterAll(async () => {
  await collector?.stop();
  tmp?.cleanup();
});

/** The events `tailship parse` prints, one `event: {…}` line each. */
function parsedEvents(stdout: string): Array<Record<string, unknown>> {
  return [...stdout.matchAll(/^\s*event:\s+(\{.*\})$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
}

/** Runs a shell script with bash, -e, in `cwd`, with the given environment added. */
function bash(script: string, env: Record<string, string>, cwd = ROOT, input?: string) {
  const r = spawnSync('bash', ['-e', '-c', script], { cwd, encoding: 'utf8', env: { ...process.env, PATH, ...env }, input: input ?? '', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `args` of the tailship CLI as a daemon, waits until `ready()`, then SIGTERMs it and expects exit 0. */
async function runDaemonUntil(args: string[], env: Record<string, string>, ready: () => Promise<boolean> | boolean, cwd = ROOT): Promise<void> {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
  try {
    const deadline = Date.now() + 150_000;
    while (!(await ready())) {
      if (proc.exitCode !== null) throw new Error(`tailship ${args.join(' ')} exited ${proc.exitCode}: ${err}`);
      if (Date.now() > deadline) throw new Error(`tailship ${args.join(' ')} did not get ready (the collector got ${collector.requests.length} requests): ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGTERM');
    expect(await exited, err).toBe(0);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  }
}

/** Waits until `tailship status` of `config` lists at least one file (the daemon tails it). */
function tailing(config: string, env: Record<string, string>, cwd = ROOT): () => boolean {
  return () => {
    const r = spawnSync(process.execPath, [BIN, 'status', '--config', config, '--json'], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
    return r.status === 0 && (JSON.parse(r.stdout) as { files: unknown[] }).files.length > 0;
  };
}

describe('README.md', () => {
  it('`npm ci` and `npm test` are what CI runs', () => {
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    for (const c of take('README.md', (c) => c === 'npm ci' || c === 'npm test')) expect(ci).toMatch(new RegExp(`^\\s*(TAILSHIP_PACK_FULL=1 )?${c}$`, 'm'));
  });

  it('the chaos suite and the busy-machine check are the script and flags their tests run', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const chaos = take('README.md', (c) => c.startsWith('npm run chaos'));
    expect(pkg.scripts.chaos).toContain('dist/chaos/run.js');
    // The flags the README gives are the ones the suite reads (chaos/run.ts); `--short` is what test/chaos/short.test.ts runs.
    const runner = readFileSync(path.join(ROOT, 'chaos/run.ts'), 'utf8');
    for (const c of chaos) for (const flag of c.match(/--[a-z-]+/g) ?? []) expect(runner, flag).toContain(`'${flag}'`);
    expect(readFileSync(path.join(ROOT, 'test/chaos/short.test.ts'), 'utf8')).toContain("'--short'");
    const [busy] = take('README.md', (c) => c === 'scripts/test-busy.sh');
    const script = readFileSync(path.join(ROOT, busy!), 'utf8');
    expect(statSync(path.join(ROOT, busy!)).mode & 0o111).not.toBe(0);
    expect(script).toMatch(/npm test/);
  });

  it('`npm start` prints the demo events', () => {
    const [start] = take('README.md', (c) => c === 'npm start');
    const r = bash(start!, {});
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string });
    expect(events.length).toBeGreaterThan(3);
    for (const e of events) expect(e.type).toBe('track');
  });

  it('nginx → RudderStack: export, validate, run until SIGTERM, status', async () => {
    const [exp, validate, run, status] = take('README.md', (c) => c.startsWith('export RUDDER_') || c.startsWith('./bin/tailship.js '));
    expect(validate).toBe('./bin/tailship.js validate --config config/nginx-rudderstack.yaml');
    const log = path.join(tmp.dir, 'readme-access.log');
    writeFileSync(log, `${nginxLine(1)}\n`);
    const env = { NGINX_ACCESS_LOG: log, TAILSHIP_STATE_DIR: path.join(tmp.dir, 'readme-state') };
    const exported = exp!.replace('https://your-dataplane.example.com', collector.url).replace('RUDDER_WRITE_KEY=...', 'RUDDER_WRITE_KEY=test-write-key');
    const v = bash(`${exported}\n${validate}`, env);
    expect(v.code, v.stderr).toBe(0);
    const envRun = { ...env, RUDDER_DATA_PLANE_URL: collector.url, RUDDER_WRITE_KEY: 'test-write-key' };
    const args = run!.replace(/^\.\/bin\/tailship\.js /, '').split(' ');
    const before = collector.messages.length;
    await runDaemonUntil(args, envRun, async () => {
      if (!tailing('config/nginx-rudderstack.yaml', envRun)()) return false;
      // start_at: end: the line already there is skipped; these two are shipped.
      if (!readFileSync(log, 'utf8').includes(nginxLine(2))) writeFileSync(log, `${nginxLine(2)}\n${nginxLine(3, 503)}\n`, { flag: 'a' });
      return collector.messages.length >= before + 2;
    });
    // At-least-once: a request retried under load may deliver a message twice, with its messageId.
    const delivered = new Map(collector.messages.slice(before).map((m) => [m.messageId, m.event]));
    expect([...delivered.values()]).toEqual(['Page Requested', 'Server Error']);
    const s = bash(`${exported}\n${status}`, env);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(log);
  }, 300_000);

  it('the install commands are the ones the package test runs', () => {
    const pkgTest = readFileSync(path.join(ROOT, 'test/lifecycle-daemon/package.test.ts'), 'utf8');
    expect(take('README.md', (c) => c === 'npm pack' || c === 'npm install -g ./tailship-*.tgz')).toHaveLength(2);
    expect(pkgTest).toContain("['pack'");
    expect(pkgTest).toContain("['install', '-g'");
  });
});

describe('docs/quickstart.md', () => {
  const doc = 'docs/quickstart.md';
  const qs = blocks(doc);
  const etc = () => path.join(tmp.dir, 'etc', 'tailship');
  const nginxLog = () => path.join(tmp.dir, 'var', 'log', 'nginx', 'access.log');
  /** The quickstart's paths, moved under the temporary directory. */
  const moved = (text: string) =>
    text
      .replaceAll('/etc/tailship/', `${etc()}/`)
      .replaceAll('/var/log/nginx/access.log', nginxLog())
      .replaceAll('/var/lib/tailship', path.join(tmp.dir, 'var', 'lib', 'tailship'))
      .replaceAll('/var/log/shop/', `${path.join(tmp.dir, 'var', 'log', 'shop')}/`);

  it('install: npm ci, npm pack, npm install -g, tailship --version', () => {
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm ci$/m);
    const pkgTest = readFileSync(path.join(ROOT, 'test/lifecycle-daemon/package.test.ts'), 'utf8');
    expect(take(doc, (c) => c === 'npm ci' || c === 'npm pack' || c === 'npm install -g ./tailship-*.tgz')).toHaveLength(3);
    expect(pkgTest).toContain("['pack'");
    expect(pkgTest).toContain("['install', '-g'");
    const [version] = take(doc, (c) => c === 'tailship --version');
    const r = bash(version!, {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('nginx on a server: the config, the secrets, validate, parse, the unit, status', async () => {
    mkdirSync(etc(), { recursive: true });
    mkdirSync(path.dirname(nginxLog()), { recursive: true });
    writeFileSync(nginxLog(), Array.from({ length: 6 }, (_, i) => `${nginxLine(i + 1, i === 5 ? 500 : 200)}\n`).join(''));
    const config = qs.find((b) => b.lang === 'yaml' && b.text.startsWith('state_dir: /var/lib/tailship'))!;
    writeFileSync(path.join(etc(), 'tailship.yaml'), moved(config.text).replace('127.0.0.1:9464', '127.0.0.1:0'));
    const envFile = qs.find((b) => b.lang === 'sh' && b.text.startsWith('RUDDER_DATA_PLANE_URL='))!;
    expect(take(doc, (c) => c.startsWith('RUDDER_DATA_PLANE_URL=') || c === 'RUDDER_WRITE_KEY=...')).toEqual(envFile.text.trim().split('\n'));
    writeFileSync(path.join(etc(), 'tailship.env'), envFile.text.replace('https://your-dataplane.example.com', collector.url).replace('RUDDER_WRITE_KEY=...', 'RUDDER_WRITE_KEY=test-write-key'));
    chmodSync(path.join(etc(), 'tailship.env'), 0o600);

    const check = take(doc, (c) => c.startsWith('set -a;') || c === 'tailship validate --config /etc/tailship/tailship.yaml' || c.startsWith('tail -n 5 /var/log/nginx/access.log'));
    expect(check).toHaveLength(3);
    const r = bash(moved(check.join('\n')), {});
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(': OK (1 pipeline: nginx)');
    const events = parsedEvents(r.stdout);
    expect(events.length, r.stdout).toBe(5);

    // The unit: what these commands install and start is deploy/systemd/tailship.service
    // (systemd-analyze verify in deploy.test.ts), reading the config and env files above.
    const unit = readFileSync(path.join(ROOT, 'deploy/systemd/tailship.service'), 'utf8');
    for (const c of take(doc, (c) => /^(sudo |journalctl )/.test(c))) {
      if (c.startsWith('sudo cp ')) expect(existsSync(path.join(ROOT, c.split(' ')[2]!)), c).toBe(true);
      else expect(c).toMatch(/^(sudo systemctl (daemon-reload|enable --now tailship|reload tailship)|journalctl -u tailship -f)$/);
    }
    expect(unit).toContain('ExecStart=/usr/bin/env tailship run --config /etc/tailship/tailship.yaml');
    expect(unit).toContain('EnvironmentFile=-/etc/tailship/tailship.env');
    expect(unit).toContain('StateDirectory=tailship');

    // What `systemctl enable --now` runs: validate, then the daemon, then status beside it.
    const status = take(doc, (c) => c === 'tailship status --config /etc/tailship/tailship.yaml');
    const env = Object.fromEntries(readFileSync(path.join(etc(), 'tailship.env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
    const configFile = path.join(etc(), 'tailship.yaml');
    const before = collector.messages.length;
    await runDaemonUntil(['run', '--config', configFile], env, async () => {
      if (!tailing(configFile, env)()) return false;
      if (!readFileSync(nginxLog(), 'utf8').includes(nginxLine(7))) writeFileSync(nginxLog(), `${nginxLine(7)}\n`, { flag: 'a' });
      return collector.messages.length > before;
    });
    expect(collector.messages.at(-1)).toMatchObject({ event: 'Page Requested', anonymousId: '203.0.113.7' });
    const s = bash(moved(status[0]!), env);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(nginxLog());
  }, 300_000);

  it('JSON application logs: export, validate, parse a sample, run', async () => {
    const sample = qs.find((b) => b.lang === 'json')!.text.trim();
    const shop = path.join(tmp.dir, 'var', 'log', 'shop');
    mkdirSync(shop, { recursive: true });
    writeFileSync(path.join(tmp.dir, 'sample.log'), `${sample}\n`);
    writeFileSync(path.join(shop, 'app-1.log'), '');
    const [exp, validate, parse, run] = take(doc, (c) => c.startsWith('export RUDDER_WRITE_KEY') || c.includes('config/examples/app-json-signup-purchase.yaml'));
    const exported = moved(exp!).replace('RUDDER_WRITE_KEY=...', 'RUDDER_WRITE_KEY=test-write-key').replace('TAILSHIP_HASH_SALT=...', 'TAILSHIP_HASH_SALT=salt');
    const env = { RUDDER_DATA_PLANE_URL: collector.url, TAILSHIP_STATE_DIR: path.join(tmp.dir, 'app-state') };
    const r = bash(`${exported}\n${validate}\n${parse!.replace('< sample.log', `< ${path.join(tmp.dir, 'sample.log')}`)}`, env);
    expect(r.code, r.stderr).toBe(0);
    const events = parsedEvents(r.stdout);
    expect(events).toContainEqual(expect.objectContaining({ type: 'track', event: 'Order Completed', userId: '1042' }));

    const runEnv = { ...env, RUDDER_WRITE_KEY: 'test-write-key', TAILSHIP_HASH_SALT: 'salt', APP_LOG: path.join(shop, 'app-*.log') };
    const config = run!.split(' --config ')[1]!;
    const before = collector.messages.length;
    await runDaemonUntil(['run', '--config', config], runEnv, async () => {
      if (!tailing(config, runEnv)()) return false;
      if (readFileSync(path.join(shop, 'app-1.log'), 'utf8') === '') writeFileSync(path.join(shop, 'app-1.log'), `${sample}\n`);
      return collector.messages.length > before;
    });
    expect(collector.messages.at(-1)).toMatchObject({ event: 'Order Completed' });
  }, 300_000);

  /** The objects of a manifest, by kind. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walked by the expectations below
  const manifest = (rel: string) => parseAllDocuments(readFileSync(path.join(ROOT, rel), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; spec?: any });

  it('Kubernetes sidecar: the image build, the secret, the manifest, logs and status in the pod', () => {
    const objs = manifest('deploy/kubernetes/sidecar.yaml');
    const web = objs.find((o) => o.kind === 'Deployment')!;
    const containers = web.spec.template.spec.containers as Array<{ name: string; image: string; args: string[]; env: Array<{ valueFrom?: { secretKeyRef: { name: string; key: string } } }> }>;
    const tailship = containers.find((c) => c.name === 'tailship')!;
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const c of take(doc, (c) => c.startsWith('docker build') || (c.startsWith('kubectl ') && !c.includes('-n tailship') && !/namespace|daemonset/.test(c)))) {
      if (c.startsWith('docker build')) {
        expect(c).toBe(`docker build -f deploy/docker/Dockerfile -t tailship:${version} .`);
        expect(tailship.image).toBe(`tailship:${version}`);
        expect(existsSync(path.join(ROOT, '.dockerignore'))).toBe(true);
      } else if (c.startsWith('kubectl create secret generic ')) {
        const ref = tailship.env.find((e) => e.valueFrom)!.valueFrom!.secretKeyRef;
        expect(c).toBe(`kubectl create secret generic ${ref.name} --from-literal=${ref.key}=...`);
      } else if (c.startsWith('kubectl apply -f ')) expect(c).toBe('kubectl apply -f deploy/kubernetes/sidecar.yaml');
      else if (c.startsWith('kubectl logs ')) expect(c).toBe(`kubectl logs deploy/${web.metadata.name} -c tailship`);
      else expect(c).toBe(`kubectl exec deploy/${web.metadata.name} -c tailship -- tailship status --config ${tailship.args[2]}`);
    }
  });

  it('Kubernetes DaemonSet: namespace, secret, manifest, pods, metrics through the API proxy, reload without kill', () => {
    const objs = manifest('deploy/kubernetes/daemonset.yaml');
    const ds = objs.find((o) => o.kind === 'DaemonSet')!;
    const ns = ds.metadata.namespace!;
    const labels = ds.spec.template.metadata.labels as Record<string, string>;
    const container = (ds.spec.template.spec.containers as Array<{ name: string; ports: Array<{ containerPort: number }>; env: Array<{ valueFrom?: { secretKeyRef: { name: string; key: string } } }> }>)[0]!;
    const selector = `-l ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}`;
    const dockerfile = readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
    for (const c of take(doc, (c) => c.includes(`-n ${ns}`) || c.startsWith('POD=') || c.startsWith('for pod in') || c === 'done' || c.startsWith('kubectl create namespace') || c === 'kubectl apply -f deploy/kubernetes/daemonset.yaml')) {
      if (c.startsWith('kubectl create namespace')) expect(c).toBe(`kubectl create namespace ${ns}`);
      else if (c.includes('create secret')) {
        const ref = container.env.find((e) => e.valueFrom)!.valueFrom!.secretKeyRef;
        expect(c).toBe(`kubectl -n ${ns} create secret generic ${ref.name} --from-literal=${ref.key}=...`);
      } else if (c.startsWith('POD=') || c.startsWith('for pod in')) expect(c).toContain(`kubectl -n ${ns} get pods ${selector}`);
      else if (c.includes('get --raw')) {
        expect(c).toContain(`/api/v1/namespaces/${ns}/pods/$POD:${container.ports[0]!.containerPort}/proxy/metrics`);
        expect(c).not.toContain('port-forward');
      } else if (c.includes('exec "$pod"')) {
        // PID 1 of the image is node running tailship; no kill or curl is needed.
        expect(c).toContain(`-- node -e 'process.kill(1, "SIGHUP")'`);
        expect(dockerfile).toMatch(/^ENTRYPOINT \["node", /m);
      } else expect(c).toMatch(/^(done|kubectl apply -f deploy\/kubernetes\/daemonset\.yaml|kubectl -n tailship get pods -o wide)$/);
    }
  });

  it('SIGHUP sent the way the DaemonSet section sends it reloads a running daemon', async () => {
    // `node -e 'process.kill(PID, "SIGHUP")'`, aimed at a daemon here instead of PID 1 of a pod.
    const dir = path.join(tmp.dir, 'hup');
    mkdirSync(dir);
    const log = path.join(dir, 'a.log');
    writeFileSync(log, '');
    const config = path.join(dir, 'tailship.yaml');
    const yaml = (event: string) => `state_dir: ${dir}/state\npipelines:\n  - name: p\n    inputs: [{ paths: ["${log}"], poll_interval: 50ms }]\n    parser: { type: json }\n    events: [{ type: track, event: "${event}", anonymousId: "a" }]\n    output: { type: rudderstack, url: ${collector.url}, write_key: test-write-key, flush_interval: 50ms }\n`;
    writeFileSync(config, yaml('Before'));
    const proc = spawn(process.execPath, [BIN, 'run', '--config', config], { stdio: 'ignore' });
    try {
      const until = async (cond: () => boolean) => {
        const deadline = Date.now() + 60_000;
        while (!cond()) {
          if (Date.now() > deadline) throw new Error('timed out');
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await until(tailing(config, {}));
      writeFileSync(config, yaml('After'));
      const hup = spawnSync(process.execPath, ['-e', `process.kill(${proc.pid}, "SIGHUP")`]);
      expect(hup.status).toBe(0);
      const since = collector.messages.length;
      await until(() => {
        if (collector.messages.slice(since).some((m) => m.event === 'After')) return true;
        writeFileSync(log, '{"n":1}\n', { flag: 'a' });
        return false;
      });
    } finally {
      proc.kill('SIGKILL');
    }
  }, 120_000);
});

it('every command of README.md and docs/quickstart.md is walked', () => {
  expect(all.filter((c) => !walked.has(c))).toEqual([]);
});
