/**
 * The daemon: builds every pipeline from a loaded config (parsers, mappers, destinations,
 * emitters), owns the store, the lock and the lifecycle. Start reads and sends at once; stop
 * stops reading, keeps delivering for up to shutdown_timeout, then closes everything. Whatever
 * is still queued then stays in the store for the next start.
 */
import type { SchemaSet } from './emit/snowplow/iglu-check.js';
import { pipelineSchemaUris, resolveSchemas, type Resolution } from './emit/snowplow/iglu.js';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { systemClock, type Clock } from './clock.js';
import { buildParserAsync } from '../parsers/index.js';
import type { PipelineConfig } from './config/schema.js';
import { pipelineOutputs, type LoadedConfig } from './config/load.js';
import { didYouMean } from './config/suggest.js';
import { TailshipError, type Problem } from './errors.js';
import type { Destination } from './emit/destination.js';
import { Emitter } from './emit/emitter.js';
import { createDestination, encoderSpec } from './emit/registry.js';
import { LoopMonitor, readiness } from './ops/health.js';
import { addLogSecrets, type Logger } from './ops/logger.js';
import { Observer } from './ops/observer.js';
import { makeScrubber } from './ops/redact.js';
import { LiveStatusSampler } from './ops/live-status.js';
import { startServer, type OpsServer } from './ops/server.js';
import { TapHub } from './ops/tap.js';
import { planReload } from './reload.js';
import { Backpressure } from './run/backpressure.js';
import { compileMapper, type MappingHooks } from './mapping/mapping.js';
import { listenToFieldPaths, RESERVED_NAMES, type PathKey } from './mapping/path.js';
import type { StagesSetup } from './run/stages.js';
import { workerCount } from './run/worker-spawn.js';
import { Pipeline, type PipelineParts } from './run/pipeline.js';
import { joinerFactory } from './source/joiners.js';
import { acquireLock } from './store/lock.js';
import { freeBytes } from './store/reserve.js';
import { Store } from './store/store.js';
import { VERSION } from './version.js';

/** How often the daemon checks that its state file is still the one it opened. */
const STORE_CHECK_MS = 1000;
/** How often the daemon looks for rows another process (dead-letter replay) put in the queue. */
const OTHER_WRITERS_POLL_MS = 1000;
/** How often a stop, a reload or the end of a --once run looks whether the emitters are done. */
const IDLE_POLL_MS = 20;

/** Resolves once every emitter is idle (nothing queued or in flight), or after `timeoutMs`. */
async function untilIdle(emitters: readonly Emitter[], clock: Clock, timeoutMs = Infinity): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  while (clock.now() < deadline && !emitters.every((e) => e.idle())) await clock.sleep(IDLE_POLL_MS);
}

export interface DaemonOptions {
  /** Read every file to its current end, deliver everything, then resolve `finished`. */
  readonly once?: boolean;
  /** Where SIGHUP and POST /reload read the config again (the file, or TAILSHIP_CONFIG). */
  readonly reloadSource?: () => LoadedConfig;
  /** --log-level was given: a reload keeps it rather than taking log_level from the config. */
  readonly logLevelFixed?: boolean;
  /** A pipeline stopped on an error; the daemon is stopping (default: only that). */
  readonly onFatal?: (err: unknown) => void;
  /** /healthz fails when the event loop or a processing thread is stuck this long (default 10 s). */
  readonly livenessLimitMs?: number;
  /** Time for the pipelines, the queue's backpressure and the waits on stop (default: the system's). */
  readonly clock?: Clock;
}

/** Adds file:line:column to an error raised while compiling part of the config. */
export function locateError(err: unknown, loaded: LoadedConfig): unknown {
  if (err instanceof TailshipError && err.place.path && err.place.line === undefined) {
    return new TailshipError(err.code, err.message, loaded.locate(err.place.path), { cause: err.cause });
  }
  return err;
}

/** Compiles a pipeline's parser and mapping rules (what `validate` checks); throws located errors. */
export async function compilePipeline(loaded: LoadedConfig, p: PipelineConfig, index: number, hooks?: MappingHooks, clock: Clock = systemClock) {
  try {
    const parser = await buildParserAsync(p.parser, { configDir: loaded.configDir, keyPath: `pipelines[${index}].parser` });
    const reads: Array<{ keys: readonly PathKey[]; where: string }> = [];
    const mapper = listenToFieldPaths(
      (keys, where) => reads.push({ keys, where }),
      () => compileMapper(p, { pipelineIndex: index, host: hostname(), version: VERSION, ...(hooks ? { hooks } : {}) }),
    );
    checkFieldsRead(loaded, p, parser.fields, reads);
    const newJoiner = joinerFactory(p, index, parser.lineFormat, clock);
    return { parser, mapper, newJoiner };
  } catch (err) {
    throw locateError(err, loaded);
  }
}

/** The Iglu schemas a pipeline's Snowplow events are checked against (emit/snowplow/iglu.ts); throws located errors. */
export async function resolvePipelineSchemas(loaded: LoadedConfig, p: PipelineConfig): Promise<Resolution> {
  try {
    return await resolveSchemas(pipelineSchemaUris(p), loaded.config.iglu, loaded.config.state_dir);
  } catch (err) {
    throw locateError(err, loaded);
  }
}

/**
 * Where the parser knows every field its records can have (a log format), a template or `when`
 * reading any other field is a typo (`{{ reqeust_path }}`): every such read is an error, with
 * the closest field the parser does produce.
 */
function checkFieldsRead(loaded: LoadedConfig, p: PipelineConfig, fields: readonly string[] | undefined, reads: ReadonlyArray<{ keys: readonly PathKey[]; where: string }>): void {
  if (!fields) return;
  const known = new Set([...fields, ...RESERVED_NAMES, '_truncated', ...(p.on_parse_error === 'raw' ? [p.raw_field] : [])]);
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const { keys, where } of reads) {
    const root = keys[0];
    if (typeof root !== 'string' || known.has(root) || seen.has(`${where}\0${root}`)) continue;
    seen.add(`${where}\0${root}`);
    const parserName = 'type' in p.parser ? `the ${p.parser.type} parser` : 'the parser';
    problems.push({ message: `no field "${root}": ${parserName} does not produce it${didYouMean(root, known)}`, place: loaded.locate(where) });
  }
  if (problems.length) throw TailshipError.of('TAILSHIP_TEMPLATE_INVALID', problems);
}

/** What a pipeline's processing threads build from: plain data, without outputs' write keys. */
function stagesSetup(
  loaded: LoadedConfig,
  p: PipelineConfig,
  index: number,
  configs: ReturnType<typeof pipelineOutputs>,
  destinations: readonly Destination[],
  schemas: SchemaSet,
): StagesSetup {
  const { output: _output, outputs: _outputs, ...pipeline } = p;
  return {
    pipeline,
    pipelineIndex: index,
    configDir: loaded.configDir,
    host: hostname(),
    version: VERSION,
    outputs: destinations.map((d, i) => {
      const c = configs[i]!;
      return { name: d.name, encoder: encoderSpec(c, { schemas }), maxEvents: d.limits.maxEvents, maxBytes: d.limits.maxBytes };
    }),
  };
}

export class Daemon {
  readonly store: Store;
  readonly observer: Observer;
  readonly pipelines: Pipeline[] = [];
  readonly emitters: Emitter[] = [];
  private readonly backpressure: Backpressure;
  private releaseLock: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private started = false;
  private starting: Promise<void> | undefined;
  private server: OpsServer | undefined;
  private loop: LoopMonitor | undefined;
  /** Rates and the 15-minute history of the status page and `tailship top` (while the server runs). */
  private sampler: LiveStatusSampler | undefined;
  /** `tailship tap` viewers; the pipelines copy events out only while one is attached. */
  readonly tap: TapHub;
  private storeWatch: NodeJS.Timeout | undefined;
  private otherWriters: NodeJS.Timeout | undefined;
  /** The error a pipeline stopped on, if one did. */
  failure: unknown;
  /** Each pipeline's emitters, to stop them with it on reload. */
  private readonly emittersOf = new Map<Pipeline, Emitter[]>();
  /** Reloads run one at a time. */
  private reloading: Promise<unknown> = Promise.resolve();
  private readonly clock: Clock;

  private constructor(
    /** The config running now; replaced by a successful reload. */
    public loaded: LoadedConfig,
    readonly log: Logger,
    private readonly options: DaemonOptions,
  ) {
    const { config } = loaded;
    this.clock = options.clock ?? systemClock;
    this.releaseLock = acquireLock(config.state_dir);
    try {
      this.store = new Store(config.state_dir);
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    this.observer = new Observer(log, config.server?.max_file_labels);
    this.backpressure = new Backpressure(
      { maxRows: config.queue.max_rows, maxBytes: config.queue.max_bytes, resumeRatio: config.queue.resume_ratio },
      (paused, rows, bytes) =>
        paused
          ? log.warn({ rows, bytes }, 'queue above its high-water mark: reading paused until the outputs catch up')
          : log.info({ rows, bytes }, 'queue below its low-water mark: reading resumed'),
      this.clock,
    );
    this.warnIfDiskSmallerThanQueue();
    this.syncQueueDepth();
    this.store.onRoomRestored(() => {
      log.info('state store has room again (disk reserve taken back)');
      for (const p of this.pipelines) p.retryHeldNow();
    });
    this.store.onQueueChange((p, o, rows, bytes, events) => {
      this.backpressure.change(rows, bytes);
      this.observer.queueChanged(p, o, rows, bytes, events);
    });
    this.observer.attach({
      pipelines: () => this.pipelines,
      backpressure: () => ({ paused: this.backpressure.isPaused, pausedMs: this.backpressure.pausedTotalMs() }),
    });
    this.tap = new TapHub(() =>
      this.pipelines.map((p) => ({
        name: p.name,
        ruleTypes: this.loaded.config.pipelines.find((c) => c.name === p.name)?.events.map((r) => r.type) ?? [],
        setTap: (selector) => p.setTap(selector),
      })),
    );
    this.observer.onTapped = (pipeline, batch) => this.tap.publish(pipeline, batch);
  }

  /**
   * queue.max_bytes counts events uncompressed, and they are stored compressed: a limit below
   * the room the state directory has always holds before the disk fills. Above it, the disk
   * fills first (reading then pauses on the disk reserve, store/reserve.ts): said at start.
   */
  private warnIfDiskSmallerThanQueue(): void {
    const { state_dir, queue } = this.loaded.config;
    let storeBytes = 0;
    for (const f of [this.store.path, `${this.store.path}-wal`]) {
      try {
        storeBytes += statSync(f).size;
      } catch {
        // not there yet
      }
    }
    const room = freeBytes(state_dir) + storeBytes;
    if (queue.max_bytes > room) {
      this.log.warn(
        { maxBytes: queue.max_bytes, roomBytes: room, stateDir: state_dir },
        'queue.max_bytes is more than the state directory\'s disk can hold: the disk would fill first (reading then pauses until deliveries free room); set queue.max_bytes below the free space',
      );
    }
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

  private async addPipeline(p: PipelineConfig, index: number): Promise<{ pipeline: Pipeline; emitters: Emitter[] }> {
    return this.instantiate(p, await this.compile(this.loaded, p, index));
  }

  /**
   * Everything of a pipeline that can fail on a bad config, built before anything running is
   * touched. The parser and rules are compiled here to check them; the processing threads
   * build their own copies when the pipeline starts.
   */
  private async compile(loaded: LoadedConfig, p: PipelineConfig, index: number) {
    const { newJoiner } = await compilePipeline(loaded, p, index, undefined, this.clock);
    const iglu = await resolvePipelineSchemas(loaded, p);
    for (const u of iglu.unchecked) this.log.warn({ pipeline: p.name, schema: u.uri, reason: u.reason }, 'Iglu schema unavailable (no registry answered, none cached): its data is sent unchecked');
    const outputs = pipelineOutputs(p);
    const destinations: Destination[] = [];
    try {
      for (const o of outputs) destinations.push(await createDestination(o, () => this.clock.now()));
    } catch (err) {
      await Promise.all(destinations.map((d) => d.close()));
      throw locateError(err, loaded);
    }
    return { newJoiner, destinations, stages: stagesSetup(loaded, p, index, outputs, destinations, iglu.schemas) };
  }

  private instantiate(p: PipelineConfig, built: Awaited<ReturnType<Daemon['compile']>>): { pipeline: Pipeline; emitters: Emitter[] } {
    const { newJoiner, destinations, stages } = built;
    const events = this.observer.forPipeline(p.name);
    this.observer.declare(p.name, destinations.map((d) => d.name));
    const scrub = makeScrubber(this.loaded.secrets);
    const emitters = destinations.map(
      (dest) => new Emitter(p.name, dest, this.store, events, { clock: this.clock, onFailed: (err) => this.fatal(`output ${dest.name} of pipeline ${p.name}`, 'emitter', err), scrub }),
    );
    const parts: PipelineParts = { config: p, stages, workers: workerCount(p.workers), newJoiner };
    const pipeline = new Pipeline(parts, this.store, this.backpressure, events, () => emitters.forEach((e) => e.wake()), {
      once: this.options.once ?? false,
      onCaughtUp: () => emitters.forEach((e) => e.caughtUp()),
      onFailed: (err) => this.fatal(`pipeline ${p.name}`, 'pipeline', err),
      clock: this.clock,
    });
    this.pipelines.push(pipeline);
    this.emitters.push(...emitters);
    this.emittersOf.set(pipeline, emitters);
    return { pipeline, emitters };
  }

  /**
   * The one path for an error that stops tailship (a pipeline or an emitter that cannot go on):
   * logged with its code and stack (secrets scrubbed), counted, and the daemon stops cleanly;
   * lines read but not committed, and events queued but not delivered, wait for the next start.
   */
  fatal(what: string, component: string, err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    this.observer.metrics.errors.inc({ component, code: typeof code === 'string' ? code : 'unknown' });
    this.log.fatal({ component, code, err }, `${what} failed: stopping tailship (nothing is lost: what was not committed is read again, what was not delivered stays queued)`);
    this.failure ??= err;
    if (this.options.onFatal) this.options.onFatal(err);
    else void this.stop();
  }

  /** Starts the ops server, the emitters and the pipelines; once. */
  start(): Promise<void> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  private async startAll(): Promise<void> {
    // The ops server first: a port in use fails the start before anything is read, and /readyz
    // answers (not ready) while the pipelines start.
    const server = this.loaded.config.server;
    if (server) {
      this.loop = new LoopMonitor(this.options.livenessLimitMs);
      const sampler = (this.sampler = new LiveStatusSampler({
        observer: this.observer,
        pipelines: () => this.pipelines,
        backpressure: () => ({ paused: this.backpressure.isPaused, pausedMs: this.backpressure.pausedTotalMs() }),
        queueDepth: () => this.store.queue.depthByOutput(),
        latestDeadLetters: (limit) => this.store.deadLetters.latest(limit),
      }));
      sampler.start();
      this.server = await startServer(
        server.listen,
        {
          metrics: async () => ({ contentType: this.observer.metrics.contentType, body: await this.observer.metrics.text() }),
          healthz: () => this.liveness(),
          readyz: () => this.readiness(),
          reload: () => this.reloadFromSource(),
          status: (withHistory) => sampler.status(withHistory),
          tap: this.tap,
        },
        this.log,
        (s) => makeScrubber(this.loaded.secrets)(s),
        { authToken: server.auth_token },
      );
    }
    // The state file removed or replaced under us: stop, rather than write where no one will read.
    this.storeWatch = setInterval(() => {
      const problem = this.store.fileProblem();
      if (!problem || this.stopping) return;
      clearInterval(this.storeWatch);
      this.fatal('state store', 'store', new TailshipError('TAILSHIP_STORE_GONE', `${problem}: stopping; restart tailship to start a new state (files are read again per start_at)`));
    }, STORE_CHECK_MS);
    this.storeWatch.unref();
    // Emitters next: a large backlog drains while reading starts, neither waits for the other.
    for (const e of this.emitters) e.start();
    this.otherWriters = setInterval(() => this.takeUpOtherWriters(), OTHER_WRITERS_POLL_MS);
    this.otherWriters.unref();
    for (const p of this.pipelines) await p.start();
    this.started = true;
    this.log.info({ pipelines: this.pipelines.map((p) => p.name), store: this.store.path }, 'tailship started');
  }

  /** Queue depth from the store: at start-up, and after another process changed the queue. */
  private syncQueueDepth(): void {
    const depth = this.store.queue.depthByOutput();
    this.backpressure.init(depth.reduce((n, d) => n + d.rows, 0), depth.reduce((n, d) => n + d.bytes, 0));
    for (const o of this.observer.outputs.values()) this.observer.queueDepth(o.pipeline, o.output, 0, 0, 0);
    for (const d of depth) this.observer.queueDepth(d.pipeline, d.output, d.rows, d.bytes, d.events);
  }

  /** `dead-letter replay|purge` commit beside the daemon: count their rows and send them. */
  private takeUpOtherWriters(): void {
    if (!this.store.isOpen || !this.store.changedElsewhere()) return;
    this.syncQueueDepth();
    for (const e of this.emitters) e.wake();
    this.log.info('the store was changed by another tailship command (dead-letter replay or purge): queue depth read again');
  }

  /** host:port of the ops server, when it runs. */
  get serverAddress(): string | undefined {
    return this.server?.address;
  }

  /**
   * What /healthz answers: the event loop is not blocked, and no processing thread has been on
   * one read for as long (a stuck parser plugin leaves the main thread free, but nothing moves).
   */
  liveness(): ReturnType<LoopMonitor['check']> {
    const report = this.loop!.check();
    for (const p of this.pipelines) {
      const ms = p.processingForMs();
      if (ms > this.loop!.maxBlockedMs) report.problems.push(`pipeline ${p.name}: one read has been processing for ${Math.round(ms / 1000)} s (a parser plugin that does not return?)`);
    }
    report.ok = report.problems.length === 0;
    return report;
  }

  /** What /readyz answers. */
  readiness(): ReturnType<typeof readiness> {
    const server = this.loaded.config.server;
    return readiness(
      {
        storeOpen: () => this.store.isOpen,
        pipelines: () => this.pipelines.map((p) => ({ name: p.name, running: this.started && !this.stopping })),
        outputs: () => this.observer.outputs.values(),
      },
      { failures: server?.unready_after_failures ?? 5, failingForMs: server?.unready_after ?? 60_000 },
      this.clock.now(),
    );
  }

  /** SIGHUP, POST /reload: reads the config again from where it came from and applies it. */
  reloadFromSource(): Promise<Record<string, unknown>> {
    return this.reload(() => {
      if (!this.options.reloadSource) throw new TailshipError('TAILSHIP_RELOAD_REFUSED', 'this daemon has no config source to reload from');
      return this.options.reloadSource();
    });
  }

  /**
   * Applies a new config without a restart: added pipelines start, removed ones stop (their
   * outputs deliver what is queued for up to shutdown_timeout first), changed ones restart.
   * Offsets and queue rows stay in the store, so a restarted pipeline resumes where the old one
   * committed. Everything that can fail is built first: a bad config changes nothing.
   */
  reload(next: LoadedConfig | (() => LoadedConfig)): Promise<Record<string, unknown>> {
    const run = this.reloading.then(() => this.applyReload(next));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async applyReload(source: LoadedConfig | (() => LoadedConfig)): Promise<Record<string, unknown>> {
    const built = new Map<string, Awaited<ReturnType<Daemon['compile']>>>();
    let next: LoadedConfig;
    let plan: ReturnType<typeof planReload>;
    try {
      if (this.stopping || !this.started) throw new TailshipError('TAILSHIP_RELOAD_REFUSED', 'the daemon is not running');
      next = typeof source === 'function' ? source() : source;
      plan = planReload(this.loaded.config, next.config);
      if (plan.refused) throw new TailshipError('TAILSHIP_RELOAD_REFUSED', plan.refused);
      for (const [i, p] of next.config.pipelines.entries()) {
        if (plan.added.includes(p.name) || plan.changed.includes(p.name)) built.set(p.name, await this.compile(next, p, i));
      }
    } catch (err) {
      for (const b of built.values()) await Promise.all(b.destinations.map((d) => d.close()));
      this.observer.reloaded(false, { err: err instanceof TailshipError ? `${err.describe()} [${err.code}]` : err });
      throw err;
    }
    addLogSecrets(this.log, next.secrets);
    const going = this.pipelines.filter((p) => plan.removed.includes(p.name) || plan.changed.includes(p.name));
    await Promise.all(going.map((p) => p.stop()));
    const timeout = this.loaded.config.shutdown_timeout;
    await Promise.all(
      going.map(async (p) => {
        const emitters = this.emittersOf.get(p) ?? [];
        const kept = new Set(next.config.pipelines.filter((c) => c.name === p.name).flatMap((c) => pipelineOutputs(c).map((o) => o.name)));
        // An output that goes away delivers its queue first (bounded); one that stays is picked up by its successor.
        const leaving = emitters.filter((e) => !kept.has(e.name));
        for (const e of leaving) e.drain();
        await untilIdle(leaving, this.clock, timeout);
        await Promise.all(emitters.map((e) => e.stop()));
        this.pipelines.splice(this.pipelines.indexOf(p), 1);
        for (const e of emitters) this.emitters.splice(this.emitters.indexOf(e), 1);
        this.emittersOf.delete(p);
      }),
    );
    this.loaded = next;
    if (this.log.level !== next.config.log_level && !this.options.logLevelFixed) this.log.level = next.config.log_level;
    for (const p of next.config.pipelines) {
      const b = built.get(p.name);
      if (!b) continue;
      const { pipeline, emitters } = this.instantiate(p, b);
      for (const e of emitters) e.start();
      await pipeline.start();
    }
    // Restarted and added pipelines get what the attached `tailship tap` viewers ask for.
    this.tap.apply();
    const result = { added: plan.added, removed: plan.removed, restarted: plan.changed, unchanged: plan.unchanged, needsRestart: plan.needsRestart };
    this.observer.reloaded(true, result);
    if (plan.needsRestart.length) this.log.warn({ settings: plan.needsRestart }, 'these settings changed but apply only after a restart');
    return result;
  }

  /** In --once mode: resolves when every file is read and every queued event is delivered. */
  async finished(): Promise<void> {
    await Promise.all(this.pipelines.map((p) => p.caughtUpPromise));
    for (const e of this.emitters) e.drain();
    await untilIdle(this.emitters, this.clock);
  }

  /** Graceful stop: no more reading, deliver for up to shutdown_timeout, close. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('stopping: no more reading; delivering what is queued');
      // A start or a reload half done would leave pipelines behind: let them finish first.
      await this.starting?.catch(() => undefined);
      await this.reloading;
      await Promise.all(this.pipelines.map((p) => p.stop()));
      for (const e of this.emitters) e.drain();
      await untilIdle(this.emitters, this.clock, this.loaded.config.shutdown_timeout);
      const left = this.store.queue.depthByOutput().reduce((n, d) => n + d.events, 0);
      await this.close();
      this.log.info({ eventsLeftQueued: left }, left ? 'stopped; undelivered events stay queued for the next start' : 'stopped; queue empty');
    })();
    return this.stopping;
  }

  private async close(): Promise<void> {
    clearInterval(this.storeWatch);
    clearInterval(this.otherWriters);
    await this.server?.close();
    this.server = undefined;
    this.sampler?.stop();
    this.loop?.stop();
    await Promise.all(this.emitters.map((e) => e.stop()));
    this.store.close();
    this.releaseLock?.();
    this.releaseLock = undefined;
  }
}
