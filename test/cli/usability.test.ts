/**
 * The command line's first-hour paths: the version, usage mistakes (exit 2), `parse` on a
 * missing file and on timestamps that do not parse, `validate` on paths matching nothing,
 * and where the config is found (--config, TAILSHIP_CONFIG as a file or text, the default file).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSource, DEFAULT_CONFIG_FILE } from '../../src/commands/shared.js';
import { runTailship, ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function jsonConfig(logGlob: string, rule = ''): string {
  return `state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
pipelines:
  - name: app
    inputs: [{ paths: [${JSON.stringify(logGlob)}] }]
    parser: { type: json }
    events:
      - type: track
        event: "{{ msg }}"
        userId: "{{ user_id }}"
${rule}
    output: { type: rudderstack, url: "http://127.0.0.1:9", write_key: "\${RS_KEY}" }
`;
}

describe('version and usage', () => {
  it('-v, --version and `version` print the version', async () => {
    for (const args of [['-v'], ['--version'], ['version']]) {
      const r = await runTailship(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    }
  });

  it('an unknown command or option exits 2, with help', async () => {
    const r = await runTailship(['rnu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'rnu'");
    expect((await runTailship(['run', '--onse'])).code).toBe(2);
  });
});

describe('tailship parse', () => {
  it('on a missing file: one clear line, no stack, exit 1', async () => {
    const cfg = path.join(tmp.dir, 'app.yaml');
    writeFileSync(cfg, jsonConfig(path.join(tmp.dir, '*.log')));
    const missing = path.join(tmp.dir, 'nope.log');
    const r = await runTailship(['parse', '--config', cfg, missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tailship: ${missing}: cannot read sample lines: no such file [TAILSHIP_INPUT_UNREADABLE]\n`);
  });

  it('warns when a timestamp does not parse (an ISO ts with epoch_ms), and needs no write key', async () => {
    const cfg = path.join(tmp.dir, 'app.yaml');
    writeFileSync(cfg, jsonConfig(path.join(tmp.dir, '*.log'), '        timestamp: "{{ ts }}"\n        timestamp_format: epoch_ms'));
    const sample = path.join(tmp.dir, 'sample.log');
    writeFileSync(sample, '{"ts":"2024-03-01T10:00:00.123Z","msg":"order.paid","user_id":1}\n{"ts":1709287200123,"msg":"order.paid","user_id":2}\n');
    const r = await runTailship(['parse', '--config', cfg, sample], { RS_KEY: '' });
    expect(r.code).toBe(0);
    expect(r.stdout.match(/warning: the rule's timestamp did not parse/g)).toHaveLength(1);
    expect(r.stdout).toContain('"originalTimestamp":"2024-03-01T10:00:00.123Z"');
    expect(r.stderr).toContain('tailship parse: warning: 1 of 2 lines: the rule\'s timestamp did not parse');
    const json = await runTailship(['parse', '--json', '--config', cfg, sample], { RS_KEY: '' });
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { timestampFallback?: boolean }).timestampFallback)).toEqual([true, undefined]);
  });

  it("the quickstart's JSON example line keeps its own time", async () => {
    const sample = path.join(tmp.dir, 'sample.log');
    const quickstart = readFileSync(path.join(ROOT, 'docs/quickstart.md'), 'utf8');
    const line = /^(\{"ts":"[^\n]+)$/m.exec(quickstart)![1]!;
    writeFileSync(sample, line + '\n');
    const r = await runTailship(['parse', '--json', '--config', path.join(ROOT, 'config/examples/app-json-signup-purchase.yaml'), sample]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { events: Array<{ originalTimestamp: string }>; timestampFallback?: boolean };
    expect(out.timestampFallback).toBeUndefined();
    expect(out.events[0]!.originalTimestamp).toBe((JSON.parse(line) as { ts: string }).ts);
  });
});

describe('tailship validate', () => {
  it('warns about paths matching no file, and still exits 0', async () => {
    const cfg = path.join(tmp.dir, 'app.yaml');
    writeFileSync(cfg, jsonConfig(path.join(tmp.dir, 'logs', '*.log')));
    const r = await runTailship(['validate', '--config', cfg], { RS_KEY: 'k' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`tailship: ${cfg}:4:23: pipelines[0].inputs[0].paths: warning: no file matches ${path.join(tmp.dir, 'logs', '*.log')} (yet): check the paths\n`);
    mkdirSync(path.join(tmp.dir, 'logs'));
    writeFileSync(path.join(tmp.dir, 'logs', 'a.log'), '');
    expect((await runTailship(['validate', '--config', cfg], { RS_KEY: 'k' })).stderr).toBe('');
  });
});

describe('where the config comes from', () => {
  it('--config, then TAILSHIP_CONFIG (a path or YAML text), then the default file', () => {
    const none = path.join(tmp.dir, 'absent.yaml');
    expect(configSource('x.yaml', { TAILSHIP_CONFIG: '/etc/other.yaml' }, none)).toEqual({ file: 'x.yaml' });
    expect(configSource(undefined, { TAILSHIP_CONFIG: '/etc/other.yaml' }, none)).toEqual({ file: '/etc/other.yaml' });
    expect(configSource(undefined, { TAILSHIP_CONFIG: 'pipelines: []' }, none)).toEqual({ text: 'pipelines: []' });
    expect(configSource(undefined, { TAILSHIP_CONFIG: '{pipelines: []}' }, none)).toEqual({ text: '{pipelines: []}' });
    expect(configSource(undefined, { TAILSHIP_CONFIG: 'state_dir: /x\npipelines: []' }, none)).toMatchObject({ text: expect.any(String) });
    expect(configSource(undefined, {}, none)).toEqual({ none: `no config: pass --config FILE, set TAILSHIP_CONFIG (a file, or the YAML text), or write ${none}` });
    const present = path.join(tmp.dir, 'tailship.yaml');
    writeFileSync(present, 'pipelines: []\n');
    expect(configSource(undefined, {}, present)).toEqual({ file: present });
    expect(DEFAULT_CONFIG_FILE).toBe('/etc/tailship/tailship.yaml');
  });

  it('TAILSHIP_CONFIG naming a file works end to end', async () => {
    const cfg = path.join(tmp.dir, 'app.yaml');
    writeFileSync(cfg, jsonConfig(path.join(tmp.dir, '*.log')));
    writeFileSync(path.join(tmp.dir, 'a.log'), '');
    const r = await runTailship(['validate'], { TAILSHIP_CONFIG: cfg, RS_KEY: 'k' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${cfg}: OK (1 pipeline: app)\n`);
  });
});
