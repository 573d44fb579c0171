/**
 * Discovery: which files an input tails. Expands the include globs (minus excludes and, unless
 * asked, compressed rotations), watches the globs' base directories with chokidar for new files,
 * and rescans periodically as a safety net (events can be missed: inotify overflow, NFS).
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';

export interface DiscoveryOptions {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly includeCompressed: boolean;
  readonly rescanMs: number;
}

const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4)$/i;

export class Discovery {
  private readonly isIncluded: (p: string) => boolean;
  private readonly isExcluded: (p: string) => boolean;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;

  constructor(
    private readonly options: DiscoveryOptions,
    /** Called for every matching path found, possibly more than once per path. */
    private readonly onFound: (file: string) => void,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.isIncluded = picomatch([...options.include], { dot: true });
    this.isExcluded = options.exclude.length ? picomatch([...options.exclude], { dot: true }) : () => false;
  }

  /** The paths matching now. */
  async scan(): Promise<string[]> {
    const found = await glob([...this.options.include], { absolute: true, dot: true, onlyFiles: true, followSymbolicLinks: true });
    return found.map((p) => path.normalize(p)).filter((p) => this.accepts(p)).sort();
  }

  accepts(file: string): boolean {
    if (!this.isIncluded(file) || this.isExcluded(file)) return false;
    return this.options.includeCompressed || !COMPRESSED.test(file);
  }

  /** Initial scan, then watching and periodic rescans. */
  async start(): Promise<void> {
    await this.rescan();
    const bases = [...new Set(this.options.include.map((g) => picomatch.scan(g).base || '/'))];
    const recursive = this.options.include.some((g) => g.includes('**'));
    this.watcher = watch(bases, { ignoreInitial: true, depth: recursive ? 64 : 0, persistent: false });
    this.watcher.on('add', (p) => {
      if (this.accepts(path.normalize(p))) this.onFound(path.normalize(p));
    });
    this.watcher.on('error', this.onError);
    this.timer = setInterval(() => void this.rescan(), this.options.rescanMs);
    this.timer.unref();
  }

  rescan(): Promise<void> {
    this.scanning ??= this.scan()
      .then((files) => files.forEach((f) => this.onFound(f)))
      .catch(this.onError)
      .finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.watcher?.close();
  }
}
