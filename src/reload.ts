/**
 * What a config reload changes: pipelines compared by name and by their whole resolved config.
 * Added ones start, removed ones stop, changed ones restart (offsets and queue rows are in the
 * store and are kept); settings that only a restart can apply are listed, not applied.
 */
import type { Config } from './config/schema.js';

export interface ReloadPlan {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
  /** Top-level settings that differ but need a restart (they are not applied). */
  readonly needsRestart: string[];
  /** Why the new config cannot be applied at all, if it cannot. */
  readonly refused?: string;
}

export function planReload(current: Config, next: Config): ReloadPlan {
  const before = new Map(current.pipelines.map((p) => [p.name, JSON.stringify(p)]));
  const after = new Map(next.pipelines.map((p) => [p.name, JSON.stringify(p)]));
  const added = [...after.keys()].filter((n) => !before.has(n));
  const removed = [...before.keys()].filter((n) => !after.has(n));
  const changed = [...after.keys()].filter((n) => before.has(n) && before.get(n) !== after.get(n));
  const unchanged = [...after.keys()].filter((n) => before.get(n) === after.get(n));
  const needsRestart = (['queue', 'server'] as const).filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next[k]));
  const plan = { added, removed, changed, unchanged, needsRestart };
  if (current.state_dir !== next.state_dir) {
    return { ...plan, refused: `state_dir changed (${current.state_dir} → ${next.state_dir}): that needs a restart, the store and its lock are held` };
  }
  return plan;
}
