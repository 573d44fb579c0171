/**
 * Permissions: the state directory is 0700 and its files 0600 whatever the umask; a config file
 * or a parser module that others may write is refused with a clear message (as sshd and sudo
 * refuse such files).
 */
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { nginxLine } from '../helpers/config.js';
import { runTailship } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let tmp: ReturnType<typeof tempDir>;
let cfg: string;

beforeEach(() => {
  tmp = tempDir();
  cfg = path.join(tmp.dir, 'tailship.yaml');
  writeFileSync(path.join(tmp.dir, 'access.log'), nginxLine(1) + '\n');
});

afterEach(() => tmp.cleanup());

function config(parser: string): string {
  return `
state_dir: ${JSON.stringify(path.join(tmp.dir, 'state'))}
log_level: silent
pipelines:
  - name: web
    inputs: [{ paths: [${JSON.stringify(path.join(tmp.dir, '*.log'))}] }]
    parser: ${parser}
    events: [{ type: track, event: "x", anonymousId: "a" }]
    output: { type: stdout }
`;
}

const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);

it('keeps the state directory 0700 and its files 0600 under umask 000', async () => {
  writeFileSync(cfg, config('{ type: nginx, format: combined }'), { mode: 0o600 });
  const old = process.umask(0);
  let r;
  try {
    r = await runTailship(['run', '--once', '--config', cfg]);
  } finally {
    process.umask(old);
  }
  expect(r.code, r.stderr).toBe(0);
  const state = path.join(tmp.dir, 'state');
  expect(mode(state)).toBe('700');
  const files = readdirSync(state);
  expect(files).toContain('tailship.db');
  for (const f of files) expect(`${f} ${mode(path.join(state, f))}`).toBe(`${f} 600`);
});

it('refuses a config file that group or others may write', async () => {
  writeFileSync(cfg, config('{ type: nginx, format: combined }'));
  chmodSync(cfg, 0o666);
  const r = await runTailship(['validate', '--config', cfg]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe(`tailship: ${cfg}: config file ${cfg} is writable by anyone (mode 0666): whoever can change it can run code as tailship; run \`chmod go-w ${cfg}\` [TAILSHIP_FILE_INSECURE]`);
});

it('refuses a parser module that its group may write', async () => {
  const mod = path.join(tmp.dir, 'my-parser.mjs');
  writeFileSync(mod, 'export function parse(line) { return { ok: true, record: { line } }; }\n');
  chmodSync(mod, 0o664);
  writeFileSync(cfg, config('{ module: ./my-parser.mjs }'), { mode: 0o600 });
  const r = await runTailship(['validate', '--config', cfg]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`parser module ${mod} is writable by its group (mode 0664)`);
  expect(r.stderr).toContain('[TAILSHIP_FILE_INSECURE]');
  chmodSync(mod, 0o644);
  expect((await runTailship(['validate', '--config', cfg])).code).toBe(0);
});
