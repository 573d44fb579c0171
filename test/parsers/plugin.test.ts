import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildParser, buildParserAsync } from '../../parsers/index.js';
import { ParseError } from '../../parsers/types.js';
import { fixturesDir, ok } from './helpers.js';

const opts = { configDir: fixturesDir, keyPath: 'pipelines[0].parser' };
const ctx = { file: '/var/log/x.log', offset: 0 };

async function rejection(section: unknown): Promise<{ code: string; message: string; place: { path?: string } }> {
  try {
    await buildParserAsync(section, opts);
  } catch (err) {
    return err as { code: string; message: string; place: { path?: string } };
  }
  throw new Error('expected buildParserAsync to fail');
}

describe('parser plugins', () => {
  it('loads a createParser module relative to the config dir and passes its options', async () => {
    const p = await buildParserAsync({ module: './plugins/kv-pipe.mjs', options: { separator: ';' } }, opts);
    expect(ok(p.parse('a:1;b:two', ctx))).toEqual({ a: '1', b: 'two' });
    // a foreign ParseError-like object and null both become ParseErrors
    expect(p.parse('nothing', ctx)).toEqual(new ParseError('expected key:value pairs', 1));
    expect((p.parse('a:1;bad', ctx) as ParseError).reason).toBe('plugin kv-pipe.mjs returned no record');
  });

  it('loads a default-exported parser object; its exceptions become ParseErrors', async () => {
    const p = await buildParserAsync({ module: './plugins/upper.mjs' }, opts);
    expect(ok(p.parse('hi', ctx))).toEqual({ upper: 'HI', file: '/var/log/x.log' });
    expect((p.parse('boom', ctx) as ParseError).reason).toBe('plugin upper.mjs threw: exploded on purpose');
    expect((p.parse('array', ctx) as ParseError).reason).toBe('plugin upper.mjs returned an array, expected a record object');
  });

  it('loads plugins nested in message_parser', async () => {
    const p = await buildParserAsync({ type: 'json', message_key: 'm', message_parser: { module: './plugins/upper.mjs' } }, opts);
    expect(ok(p.parse('{"m":"abc"}', ctx))).toMatchObject({ upper: 'ABC' });
  });

  it('buildParser (sync) works once loaded and explains when it was not', async () => {
    await buildParserAsync({ module: './plugins/upper.mjs' }, opts);
    expect(ok(buildParser({ module: './plugins/upper.mjs' }, opts).parse('x', ctx))).toMatchObject({ upper: 'X' });
    expect(() => buildParser({ module: './plugins/never-loaded.mjs' }, opts)).toThrowError(expect.objectContaining({ code: 'TAILSHIP_PLUGIN_INVALID' }));
  });

  it('fails at start-up with TAILSHIP_PLUGIN_INVALID naming the file and the problem', async () => {
    const missing = await rejection({ module: './plugins/nope.mjs' });
    expect(missing.code).toBe('TAILSHIP_PLUGIN_INVALID');
    expect(missing.message).toContain(path.join(fixturesDir, 'plugins/nope.mjs'));
    expect(missing.message).toContain('file not found');
    expect(missing.place.path).toBe('pipelines[0].parser.module');

    const none = await rejection({ module: './plugins/no-exports.mjs' });
    expect(none.message).toContain('exports version; expected a createParser(options, ctx) function');

    const syntax = await rejection({ module: './plugins/syntax-error.mjs' });
    expect(syntax.code).toBe('TAILSHIP_PLUGIN_INVALID');
    expect(syntax.message).toContain('syntax-error.mjs: cannot be imported');

    const bad = await rejection({ module: './plugins/bad-factory.mjs' });
    expect(bad.message).toContain('did not return an object with a parse(line, ctx) method');

    const threw = await rejection({ module: './plugins/kv-pipe.mjs', options: { separator: '' } });
    expect(threw.message).toContain('createParser threw: separator must not be empty');
  });

  it('rejects a malformed section', async () => {
    expect((await rejection({ module: './plugins/upper.mjs', separator: ';' })).place.path).toBe('pipelines[0].parser.separator');
    expect((await rejection({ module: './plugins/upper.mjs', options: 'x' })).place.path).toBe('pipelines[0].parser.options');
    expect((await rejection({ type: 'json', module: './plugins/upper.mjs' })).code).toBe('TAILSHIP_PARSER_OPTIONS');
    expect((await rejection({})).code).toBe('TAILSHIP_PARSER_OPTIONS');
    expect((await rejection('json')).code).toBe('TAILSHIP_PARSER_OPTIONS');
  });
});
