/**
 * The query of GET /api/tap (what `tailship tap` sends): `pipeline`, `rule` (indexes, comma
 * separated), `type` (call types, comma separated), `sample` (0 < s <= 1) and `rate` (events per
 * second). Each bad value gets an error that names it.
 */
import { CALL_TYPES, type CallType } from '../mapping/call-types.js';
import type { TapHub, TapRequest } from './tap.js';

export const TAP_DEFAULT_RATE = 20;
export const TAP_MAX_RATE = 1_000;

export function parseTapQuery(q: URLSearchParams, hub: TapHub): { request: TapRequest } | { error: string } {
  const pipeline = q.get('pipeline') || undefined;
  const known = hub.pipelineNames();
  if (pipeline !== undefined && !known.includes(pipeline)) return { error: `pipeline: no pipeline "${pipeline}" runs here (running: ${known.join(', ') || 'none'})` };
  let rules: number[] | undefined;
  const ruleText = q.get('rule');
  if (ruleText) {
    rules = ruleText.split(',').map((r) => Number(r.trim()));
    if (rules.some((r) => !Number.isInteger(r) || r < 0)) return { error: `rule: expected rule indexes such as 0 or 0,2 (a rule's place in \`events\`, from 0), got ${JSON.stringify(ruleText)}` };
  }
  let types: CallType[] | undefined;
  const typeText = q.get('type');
  if (typeText) {
    types = typeText.split(',').map((t) => t.trim()) as CallType[];
    const bad = types.find((t) => !CALL_TYPES.includes(t));
    if (bad !== undefined) return { error: `type: "${bad}" is not a call type (one of ${CALL_TYPES.join(', ')})` };
  }
  const sample = q.has('sample') ? Number(q.get('sample')) : 1;
  if (!(sample > 0 && sample <= 1)) return { error: `sample: expected a fraction in (0, 1], got ${JSON.stringify(q.get('sample'))}` };
  const ratePerSec = q.has('rate') ? Number(q.get('rate')) : TAP_DEFAULT_RATE;
  if (!(ratePerSec > 0 && ratePerSec <= TAP_MAX_RATE)) return { error: `rate: expected events per second in (0, ${TAP_MAX_RATE}], got ${JSON.stringify(q.get('rate'))}` };
  return { request: { pipeline, rules, types, sample, ratePerSec } };
}
