/**
 * Config mistakes that used to pass silently or one at a time: bare-number durations, the
 * shell/Compose variable forms, every problem at once with "did you mean", and what a wrong
 * value actually was.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { interpolate } from '../../src/config/env.js';
import { TailshipError } from '../../src/errors.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const config = (input = '', rule = '', output = 'output: { type: stdout }') => `state_dir: ./state
pipelines:
  - name: web
    inputs:
      - paths: ["/var/log/a.log"]
${input}
    parser: { type: nginx }
    events:
      - type: track
        event: "E"
        anonymousId: "{{ remote_addr }}"
${rule}
    ${output}
`;

describe('durations', () => {
  it('refuse a bare number, naming the key and both fixes', () => {
    const err = errorOf(config('', '', 'output: { type: stdout, flush_interval: 5 }'));
    expect(err.place).toMatchObject({ path: 'pipelines[0].output.flush_interval', line: 13 });
    expect(err.message).toBe('a duration needs a unit: write 5s or 5ms (units: ms, s, m, h, d)');
    expect(errorOf(`shutdown_timeout: "30"\n` + config()).message).toContain('write 30s or 30ms');
  });

  it('take units, and 0 alone', () => {
    const { config: c } = loadConfigText(config('        poll_interval: 1.5s\n        ignore_older: 0', '', 'output: { type: stdout, flush_interval: 250ms }'), 'x.yaml', '/etc', {});
    expect(c.pipelines[0]!.inputs[0]).toMatchObject({ poll_interval: 1500, ignore_older: 0 });
    expect(c.pipelines[0]!.output).toMatchObject({ flush_interval: 250 });
  });
});

describe('environment variables', () => {
  const env = { SET: 'value', EMPTY: '' };
  it.each([
    ['$SET/x', 'value/x'],
    ['${SET}', 'value'],
    ['${UNSET:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${UNSET-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${SET:?needed}', 'value'],
    ['$$SET and $ alone and $1', '$SET and $ alone and $1'],
    ['a${SET}b$SET', 'avaluebvalue'],
  ])('%s → %s', (text, expected) => {
    const r = interpolate(text, env);
    expect(r.missing).toEqual([]);
    expect(r.value).toBe(expected);
  });

  it('errors for ${VAR:?message} with the message, and ${VAR?} only when unset', () => {
    expect(interpolate('${EMPTY:?give it}', env).missing).toEqual([{ name: 'EMPTY', message: 'give it' }]);
    expect(interpolate('${EMPTY?give it}', env).missing).toEqual([]);
    expect(interpolate('$UNSET', env).missing).toEqual([{ name: 'UNSET' }]);
    const err = errorOf(config('', '', 'output: { type: rudderstack, url: "http://x", write_key: "${RS_KEY:?set RS_KEY to the source write key}" }'));
    expect(err.code).toBe('TAILSHIP_CONFIG_ENV_MISSING');
    expect(err.place).toMatchObject({ line: 13 });
    expect(err.message).toBe('environment variable $RS_KEY is not set: set RS_KEY to the source write key');
  });

  it('$VAR in a value is interpolated, not shipped as text', () => {
    const { config: c } = loadConfigText(config('', '', 'output: { type: rudderstack, url: "$URL", write_key: "$KEY" }'), 'x.yaml', '/etc', { URL: 'http://127.0.0.1:9', KEY: 'k' });
    expect(c.pipelines[0]!.output).toMatchObject({ url: 'http://127.0.0.1:9', write_key: 'k' });
  });

  it('with allowUnsetVariables, a missing secret stands in as a placeholder (status, dead-letter)', () => {
    const text = config('', '', 'output: { type: rudderstack, url: "${RS_URL}", write_key: "${RS_KEY}" }');
    expect(errorOf(text).problems).toHaveLength(2);
    const { config: c } = loadConfigText(text, 'x.yaml', '/etc', {}, { allowUnsetVariables: true });
    expect(c.pipelines[0]!.output).toMatchObject({ type: 'rudderstack', write_key: 'http://unset.invalid/RS_KEY' });
  });
});

describe('every problem at once', () => {
  it('lists all problems in document order, with did-you-mean for keys and values', () => {
    const err = errorOf(
      config(
        '        pathz: x\n        start_at: beginnig\n        max_open_files: lots\n        poll_interval: 5',
        '        propertes: { a: 1 }',
        'output: { type: rudderstak, url: "http://x", write_key: k }\n    outptu: 3',
      ),
    );
    expect(err.code).toBe('TAILSHIP_CONFIG_INVALID');
    expect(err.problems.map((p) => `${p.place.line} ${p.place.path}: ${p.message}`)).toEqual([
      '6 pipelines[0].inputs[0].pathz: unknown key "pathz" (did you mean "paths"?)',
      '7 pipelines[0].inputs[0].start_at: expected one of "beginning"|"end", got "beginnig" (did you mean "beginning"?)',
      '8 pipelines[0].inputs[0].max_open_files: expected an integer, got "lots"',
      '9 pipelines[0].inputs[0].poll_interval: a duration needs a unit: write 5s or 5ms (units: ms, s, m, h, d)',
      '15 pipelines[0].events[0].propertes: unknown key "propertes" (did you mean "properties"?)',
      '16 pipelines[0].output.type: unknown output type "rudderstak"; expected one of: rudderstack, segment, snowplow, stdout, file (did you mean "rudderstack"?)',
      '17 pipelines[0].outptu: unknown key "outptu" (did you mean "output"?)',
    ]);
    expect(err.describe().split('\n')).toHaveLength(7);
    expect(err.describe()).not.toContain('more problem');
  });

  it('a string in a number field says what it got, never NaN', () => {
    const err = errorOf(config('', '        sample: { rate: half }'));
    expect(err.message).toBe('expected a number between 0 and 1, got "half"');
    expect(err.message).not.toContain('NaN');
    const ok = loadConfigText(config('        max_open_files: "64"'), 'x.yaml', '/etc', {});
    expect(ok.config.pipelines[0]!.inputs[0]!.max_open_files).toBe(64);
  });
});

describe('fields no parser produces', () => {
  it('a template or `when` naming a field the log format lacks is an error, all of them, with did-you-mean', async () => {
    const { compilePipeline } = await import('../../src/daemon.js');
    const loaded = loadConfigText(
      config('', '        properties: { path: "{{ reqeust_path }}", ok: "{{ request_path }}", host: "{{ _host }}", uid: "{{ query.uid }}" }\n      - when: "stauts >= 500"\n        type: track\n        event: "E"\n        anonymousId: "x"'),
      '/etc/tailship.yaml',
      '/etc',
      {},
    );
    const err = await compilePipeline(loaded, loaded.config.pipelines[0]!, 0).then(
      () => undefined,
      (e: unknown) => e as TailshipError,
    );
    expect(err?.code).toBe('TAILSHIP_TEMPLATE_INVALID');
    expect(err!.problems.map((p) => `${p.place.line} ${p.place.path}: ${p.message}`)).toEqual([
      '12 pipelines[0].events[0].properties.path: no field "reqeust_path": the nginx parser does not produce it (did you mean "request_path"?)',
      '13 pipelines[0].events[1].when: no field "stauts": the nginx parser does not produce it (did you mean "status"?)',
    ]);
  });

  it('is not checked where records are open-ended (json)', async () => {
    const { compilePipeline } = await import('../../src/daemon.js');
    const loaded = loadConfigText(config().replace('{ type: nginx }', '{ type: json }').replace('remote_addr', 'anything_at_all'), 'x.yaml', '/etc', {});
    await expect(compilePipeline(loaded, loaded.config.pipelines[0]!, 0)).resolves.toBeDefined();
  });
});
