/**
 * The Snowplow tracker protocol (docs/destinations.md, Snowplow). Events are checked against
 * their Iglu schemas when they are encoded, so the encoder takes the schemas resolved at start.
 */
import type { Protocol, RuleProblem, RuleShape } from '../protocol.js';
import { HTTP_PATH_OPTIONS } from '../http-options.js';
import { snowplowOptions, type SnowplowOptions } from './options.js';
import type { SnowplowEncoding } from './snowplow-encoder.js';

export const snowplow: Protocol<typeof snowplowOptions> = {
  type: 'snowplow',
  options: snowplowOptions,
  pathOptions: HTTP_PATH_OPTIONS,
  checkRules,
  encoderModule: 'snowplow/snowplow-encoder.js',
  encoderSettings: (cfg, start) => snowplowEncoding(cfg, start.schemas),
  async destination(cfg, now) {
    const { SnowplowDestination } = await import('./snowplow.js');
    return new SnowplowDestination(cfg, now);
  },
};

/** An output's encoding options (the Iglu schemas are added once resolved). */
export function snowplowEncoding(cfg: Pick<SnowplowOptions, 'app_id' | 'method' | 'base64' | 'max_get_bytes'>, schemas: SnowplowEncoding['schemas'] = {}): SnowplowEncoding {
  return { appId: cfg.app_id, method: cfg.method, base64: cfg.base64, maxGetBytes: cfg.max_get_bytes, schemas };
}

/**
 * The Snowplow trackers have no identify, group or alias call: such a rule needs the schema of
 * the self-describing event it stands for, rather than silently becoming something else.
 */
function checkRules(rules: readonly RuleShape[]): RuleProblem[] {
  const problems: RuleProblem[] = [];
  rules.forEach((r, i) => {
    const type = r.type ?? 'track';
    if (!r.drop && r.schema === undefined && (type === 'identify' || type === 'group' || type === 'alias')) {
      problems.push({ path: ['events', i, 'schema'], message: `${type === 'group' ? 'a' : 'an'} ${type} rule needs \`schema\` with a Snowplow output: Snowplow has no ${type} event, so it is sent as the self-describing event of that schema` });
    }
  });
  return problems;
}
