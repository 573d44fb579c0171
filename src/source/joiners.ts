/**
 * The per-file joiner chain of a pipeline: container partial lines (CRI `P`/`F`, Docker
 * json-file pieces) are joined first, when the parser reads a container format
 * (`Parser.lineFormat`); then multiline groups, when the pipeline has a `multiline` section.
 * Returns undefined when neither applies.
 */
import type { LineFormat } from '../../parsers/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { PipelineConfig } from '../config/schema.js';
import type { Line, LineJoiner } from './line.js';
import { createMultiline } from './multiline.js';
import { createPartialJoiner } from './partial-join.js';

/** Feeds what the first joiner emits into the second. */
class ChainedJoiner implements LineJoiner {
  constructor(
    private readonly first: LineJoiner,
    private readonly second: LineJoiner,
    private readonly clock: Clock,
  ) {}

  push(line: Line, nowMs: number): Line[] {
    return this.feed(this.first.push(line, nowMs), nowMs);
  }

  tick(nowMs: number): Line[] {
    const out = this.feed(this.first.tick(nowMs), nowMs);
    out.push(...this.second.tick(nowMs));
    return out;
  }

  flush(): Line[] {
    const out = this.feed(this.first.flush(), this.clock.now());
    out.push(...this.second.flush());
    return out;
  }

  pendingStart(): number | undefined {
    const a = this.first.pendingStart();
    const b = this.second.pendingStart();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  private feed(lines: Line[], nowMs: number): Line[] {
    const out: Line[] = [];
    for (const l of lines) out.push(...this.second.push(l, nowMs));
    return out;
  }
}

/** A factory of fresh joiner chains (one per file), or undefined. Throws located config errors. */
export function joinerFactory(p: PipelineConfig, pipelineIndex: number, container: LineFormat | undefined, clock: Clock = systemClock): (() => LineJoiner) | undefined {
  const timeoutMs = Math.max(...p.inputs.map((i) => i.partial_line_timeout));
  const multiline = p.multiline;
  if (multiline) createMultiline(multiline, `pipelines[${pipelineIndex}].multiline`, container); // validate once, at start-up
  if (!container && !multiline) return undefined;
  return () => {
    const partial = container ? createPartialJoiner({ format: container, timeoutMs }) : undefined;
    // With a container parser the multiline rules test the inner message, not the runtime's line.
    const grouped = multiline ? createMultiline(multiline, `pipelines[${pipelineIndex}].multiline`, container) : undefined;
    if (partial && grouped) return new ChainedJoiner(partial, grouped, clock);
    return (partial ?? grouped)!;
  };
}
