/** The CLI as a user runs it: validate, parse and status, on real files. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runTailship, ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

const demo = path.join(ROOT, 'config/demo.yaml');

describe('tailship validate', () => {
  it('accepts the shipped configs', async () => {
    for (const f of ['config/demo.yaml', 'config/nginx-rudderstack.yaml']) {
      const r = await runTailship(['validate', '--config', path.join(ROOT, f)], { RUDDER_WRITE_KEY: 'k' });
      // Their log paths may not exist on this machine: a warning only.
      expect(r.stderr.split('\n').filter((l) => l && !l.includes('warning: no file matches'))).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('OK (1 pipeline');
    }
  });

  it('rejects a bad expression with file:line:col and a non-zero exit', async () => {
    const cfg = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(
      cfg,
      `pipelines:
  - name: web
    inputs: [{ paths: ["/tmp/x.log"] }]
    parser: { type: nginx }
    events:
      - when: "status >>> 500"
        type: track
        event: "E"
        anonymousId: "{{ remote_addr }}"
    output: { type: stdout }
`,
    );
    const r = await runTailship(['validate', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${cfg}:6:`);
    expect(r.stderr).toContain('pipelines[0].events[0].when');
    expect(r.stderr).toContain('[TAILSHIP_EXPRESSION_INVALID]');
  });
});

describe('tailship parse', () => {
  it('prints records and events for sample lines without a state store', async () => {
    const sample = path.join(tmp.dir, 'sample.log');
    writeFileSync(
      sample,
      '203.0.113.42 - - [12/Mar/2025:14:05:31 +0000] "GET /products/42?uid=u-7 HTTP/1.1" 502 0 "-" "curl/8.5.0"\nnot a log line\n',
    );
    const r = await runTailship(['parse', '--config', demo, '--json', sample], { TAILSHIP_STATE_DIR: path.join(tmp.dir, 'never') });
    expect(r.code).toBe(0);
    const [first, second] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ line: 1, offset: 0, record: { status: 502, request_path: '/products/42' } });
    expect((first!.events as Array<Record<string, unknown>>)[0]).toMatchObject({ type: 'track', event: 'Server Error', anonymousId: '203.0.113.42' });
    expect(second).toMatchObject({ line: 2, parseError: expect.any(String) });
  });
});

describe('tailship status', () => {
  it('shows the file, its offset and lag, and the dead letters after a --once run', async () => {
    const state = path.join(tmp.dir, 'state');
    const run = await runTailship(['run', '--once', '--config', demo], { TAILSHIP_STATE_DIR: state });
    // The demo's malformed line is a parse dead letter: exit 3, and the summary says so.
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('1 dead letter (see `tailship dead-letter list`)');
    expect(run.stdout.trim().split('\n')).toHaveLength(24);
    const st = await runTailship(['status', '--json', '--config', demo], { TAILSHIP_STATE_DIR: state });
    const report = JSON.parse(st.stdout) as { files: Array<{ path: string; lag: number }>; queues: unknown[]; deadLetters: Array<{ kind: string; count: number }> };
    expect(report.files).toHaveLength(1);
    expect(report.files[0]!.path).toMatch(/fixtures\/demo\/access\.log$/);
    expect(report.files[0]!.lag).toBe(0);
    expect(report.queues).toEqual([]);
    expect(report.deadLetters).toEqual([{ pipeline: 'demo', output: null, kind: 'parse', count: 1 }]);
    const table = await runTailship(['status', '--config', demo], { TAILSHIP_STATE_DIR: state });
    expect(table.stdout).toMatch(/FILES[\s\S]*access\.log[\s\S]*DEAD LETTERS[\s\S]*parse\s+1/);
  });
});
