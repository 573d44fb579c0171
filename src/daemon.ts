/**
 * The daemon: builds every pipeline from a loaded config (parsers, mappers, destinations,
 * emitters), owns the store, the lock and the lifecycle. Start reads and sends at once; stop
 * stops reading, keeps delivering for up to shutdown_timeout, then closes everything. Whatever
 * is still queued then stays in the store for the next start.
 */
import { hostname } from 'node:os';
import { buildParserAsync } from '../parsers/index.js';
import type { PipelineConfig } from './config/schema.js';
import { pipelineOutputs, type LoadedConfig } from './config/load.js';
import { TailshipError } from './errors.js';
import type { Destination } from './emit/destination.js';
import { Emitter } from './emit/emitter.js';
import { createDestination } from './emit/registry.js';
import type { Logger } from './ops/logger.js';
import { Observer } from './ops/observer.js';
import { Backpressure } from './pipeline/backpressure.js';
import { compileMapper } from './pipeline/mapping.js';
import { Pipeline, type PipelineParts } from './pipeline/pipeline.js';
import { joinerFactory } from './source/joiners.js';
import { acquireLock } from './store/lock.js';
import { Store } from './store/store.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  /** Read every file to its current end, deliver everything, then resolve `finished`. */
  readonly once?: boolean;
}

/** Adds file:line:column to an error raised while compiling part of the config. */
export function locateError(err: unknown, loaded: LoadedConfig): unknown {
  if (err instanceof TailshipError && err.place.path && err.place.line === undefined) {
    return new TailshipError(err.code, err.message, loaded.locate(err.place.path), { cause: err.cause });
  }
  return err;
}

/** Compiles a pipeline's parser and mapping rules (what `validate` checks); throws located errors. */
export async function compilePipeline(loaded: LoadedConfig, p: PipelineConfig, index: number, observer?: Observer) {
  try {
    const parser = await buildParserAsync(p.parser, { configDir: loaded.configDir, keyPath: `pipelines[${index}].parser` });
    const mapper = compileMapper(p, {
      pipelineIndex: index,
      host: hostname(),
      version: VERSION,
      ...(observer
        ? {
            hooks: {
              timestampFallback: () => observer.forPipeline(p.name).timestampFallback(),
              dropped: () => observer.forPipeline(p.name).mappingOutcome('dropped'),
              sampledOut: () => observer.forPipeline(p.name).mappingOutcome('sampled_out'),
              unmatched: () => observer.forPipeline(p.name).mappingOutcome('unmatched'),
            },
          }
        : {}),
    });
    const newJoiner = joinerFactory(p, index);
    return { parser, mapper, newJoiner };
  } catch (err) {
    throw locateError(err, loaded);
  }
}

export class Daemon {
  readonly store: Store;
  readonly observer: Observer;
  readonly pipelines: Pipeline[] = [];
  readonly emitters: Emitter[] = [];
  private readonly backpressure: Backpressure;
  private releaseLock: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly loaded: LoadedConfig,
    readonly log: Logger,
    private readonly options: DaemonOptions,
  ) {
    const { config } = loaded;
    this.releaseLock = acquireLock(config.state_dir);
    try {
      this.store = new Store(config.state_dir);
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    this.observer = new Observer(log);
    this.backpressure = new Backpressure(
      { maxRows: config.queue.max_rows, maxBytes: config.queue.max_bytes, resumeRatio: config.queue.resume_ratio },
      (paused, rows, bytes) =>
        paused
          ? log.warn({ rows, bytes }, 'queue above its high-water mark: reading paused until the outputs catch up')
          : log.info({ rows, bytes }, 'queue below its low-water mark: reading resumed'),
    );
    const depth = this.store.queue.depthByOutput();
    this.backpressure.init(depth.reduce((n, d) => n + d.rows, 0), depth.reduce((n, d) => n + d.bytes, 0));
    for (const d of depth) this.observer.queueDepth(d.pipeline, d.output, d.rows, d.bytes);
    this.store.onQueueChange((p, o, rows, bytes) => {
      this.backpressure.change(rows, bytes);
      this.observer.queueChanged(p, o, rows, bytes);
    });
    this.observer.attach({
      pipelines: () => this.pipelines,
      backpressure: () => ({ paused: this.backpressure.isPaused, pausedMs: this.backpressure.pausedMs }),
    });
  }

  static async create(loaded: LoadedConfig, log: Logger, options: DaemonOptions = {}): Promise<Daemon> {
    const d = new Daemon(loaded, log, options);
    try {
      for (const [i, p] of loaded.config.pipelines.entries()) await d.addPipeline(p, i);
    } catch (err) {
      await d.close();
      throw err;
    }
    return d;
  }

  private async addPipeline(p: PipelineConfig, index: number): Promise<void> {
    const { parser, mapper, newJoiner } = await compilePipeline(this.loaded, p, index, this.observer);
    const destinations: Destination[] = pipelineOutputs(p).map((o) => createDestination(o));
    const events = this.observer.forPipeline(p.name);
    const emitters = destinations.map((dest) => new Emitter(p.name, dest, this.store, events));
    const parts: PipelineParts = { config: p, parser, mapper, destinations, newJoiner };
    const pipeline = new Pipeline(parts, this.store, this.backpressure, events, () => emitters.forEach((e) => e.wake()), {
      once: this.options.once ?? false,
    });
    this.pipelines.push(pipeline);
    this.emitters.push(...emitters);
  }

  async start(): Promise<void> {
    for (const e of this.emitters) e.start();
    for (const p of this.pipelines) await p.start();
    this.log.info({ pipelines: this.pipelines.map((p) => p.name), store: this.store.path }, 'tailship started');
  }

  /** In --once mode: resolves when every file is read and every queued event is delivered. */
  async finished(): Promise<void> {
    await Promise.all(this.pipelines.map((p) => p.caughtUpPromise));
    for (const e of this.emitters) e.drain();
    while (!this.emitters.every((e) => e.idle())) await new Promise((r) => setTimeout(r, 20));
  }

  /** Graceful stop: no more reading, deliver for up to shutdown_timeout, close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('stopping: no more reading; delivering what is queued');
      await Promise.all(this.pipelines.map((p) => p.stop()));
      for (const e of this.emitters) e.drain();
      const deadline = Date.now() + this.loaded.config.shutdown_timeout;
      while (Date.now() < deadline && !this.emitters.every((e) => e.idle())) await new Promise((r) => setTimeout(r, 20));
      const left = this.store.queue.depthByOutput().reduce((n, d) => n + d.events, 0);
      await this.close();
      this.log.info({ eventsLeftQueued: left }, left ? 'stopped; undelivered events stay queued for the next start' : 'stopped; queue empty');
    })();
    return this.stopping;
  }

  private async close(): Promise<void> {
    await Promise.all(this.emitters.map((e) => e.stop()));
    this.store.close();
    this.releaseLock?.();
    this.releaseLock = undefined;
  }
}
