/**
 * The command line's exit codes, one home for them (docs/operations.md lists them too).
 * Scripts and cron jobs tell "all delivered" from "some events are dead letters" by these.
 */
export const EXIT = {
  /** Done: with `run --once`, every line read became delivered events (or was dropped by a rule). */
  OK: 0,
  /** A failure the message explains: bad config, store in use, a pipeline failed, stopped early. */
  FAILURE: 1,
  /** Wrong usage: unknown command or option. */
  USAGE: 2,
  /** `run --once` finished, but some lines or events became dead letters in this run. */
  DEAD_LETTERS: 3,
  /** `run --once` found no file matching any input's paths: nothing was read. */
  NO_FILES: 4,
} as const;
