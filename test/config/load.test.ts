/** Config errors name the file, line, column and key path, and say what was expected. */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { TailshipError } from '../../src/errors.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const base = (extra = '', output = 'output: { type: stdout }') => `state_dir: ./state
pipelines:
  - name: web
    inputs:
      - paths: ["/var/log/a.log"]
    parser: { type: nginx }
    events:
      - type: track
        event: "E"
        anonymousId: "{{ remote_addr }}"
${extra}
    ${output}
`;

describe('config loading', () => {
  it('resolves defaults, durations, sizes and relative paths', () => {
    const { config } = loadConfigText(base(), '/etc/tailship.yaml', '/etc', {});
    expect(config.state_dir).toBe('/etc/state');
    const input = config.pipelines[0]!.inputs[0]!;
    expect(input.start_at).toBe('end');
    expect(input.max_line_bytes).toBe(1024 * 1024);
    expect(input.partial_line_timeout).toBe(5000);
  });

  it('interpolates ${VAR} and ${VAR:-default}', () => {
    const text = base('', 'output: { type: rudderstack, url: "${URL:-http://127.0.0.1:9}", write_key: "${KEY}" }');
    const loaded = loadConfigText(text, 'x.yaml', '/etc', { KEY: 'sekret-key' });
    const out = loaded.config.pipelines[0]!.output!;
    expect(out).toMatchObject({ url: 'http://127.0.0.1:9', write_key: 'sekret-key' });
    expect(loaded.secrets).toContain('sekret-key');
  });

  it('names the line and column of a missing environment variable', () => {
    const err = errorOf(base('', 'output: { type: rudderstack, url: "http://x", write_key: "${RUDDER_WRITE_KEY}" }'));
    expect(err.code).toBe('TAILSHIP_CONFIG_ENV_MISSING');
    expect(err.place).toMatchObject({ file: '/etc/tailship.yaml', line: 12 });
    expect(err.message).toContain('$RUDDER_WRITE_KEY');
  });

  it('points at an unknown key (a typo) with its path', () => {
    const err = errorOf(base().replace('paths:', 'pathz: ["x"]\n        paths:'));
    expect(err.code).toBe('TAILSHIP_CONFIG_INVALID');
    expect(err.place.path).toBe('pipelines[0].inputs[0].pathz');
    expect(err.place.line).toBe(5);
    expect(err.message).toContain('unknown key "pathz"');
  });

  it('refuses an output URL that is not http:// or https://', () => {
    for (const output of [
      'output: { type: rudderstack, url: "foo://collector", write_key: k }',
      'output: { type: segment, url: "ftp://api.segment.io", write_key: k }',
      'output: { type: snowplow, url: "file:///tmp/x" }',
    ]) {
      const err = errorOf(base('', output));
      expect(err.code).toBe('TAILSHIP_CONFIG_INVALID');
      expect(err.place).toMatchObject({ path: 'pipelines[0].output.url', line: 12 });
      expect(err.message).toContain('expected an http:// or https:// URL');
    }
    const ok = loadConfigText(base('', 'output: { type: rudderstack, url: "HTTPS://[::1]:8443/dp", write_key: k }'), '/etc/tailship.yaml', '/etc', {});
    expect(ok.config.pipelines[0]!.output).toMatchObject({ url: 'HTTPS://[::1]:8443/dp' });
  });

  it('explains a wrongly typed value', () => {
    const err = errorOf(base().replace('paths: ["/var/log/a.log"]', 'paths: ["/var/log/a.log"]\n        start_at: middle'));
    expect(err.place).toMatchObject({ path: 'pipelines[0].inputs[0].start_at', line: 6, column: 19 });
    expect(err.message).toMatch(/beginning|end/);
  });

  it('reports YAML syntax errors with their place', () => {
    const err = errorOf('pipelines:\n  - name: [unclosed\n');
    expect(err.code).toBe('TAILSHIP_CONFIG_INVALID');
    expect(err.place.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses duplicate pipeline names and an unknown output type', () => {
    const two = base() + base().split('pipelines:\n')[1]!;
    expect(errorOf(two).message).toContain('duplicate pipeline name "web"');
    expect(errorOf(base('', 'output: { type: kafka }')).message).toContain('unknown output type');
  });
});
