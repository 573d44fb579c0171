/**
 * One status line at the bottom of a terminal (the `run --once` progress), sharing it with the
 * log lines written above it. Every log line first clears the status line and then redraws
 * it below itself, so a log never starts mid-bar and the bar never overwrites a log line.
 * Everything goes through one synchronous writer, so the two cannot interleave.
 */
const CLEAR_LINE = '\r\x1b[2K';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

export class StatusLine {
  private text = '';
  private active = false;
  private partial = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  /** Shows (or replaces) the status line. */
  show(text: string): void {
    if (!this.active) this.out.write(HIDE_CURSOR);
    this.active = true;
    this.text = this.fit(text);
    this.out.write(CLEAR_LINE + this.text);
  }

  /** Writes log text above the status line; a line without its newline yet waits for it. */
  readonly log = (text: string): void => {
    const all = this.partial + text;
    const end = all.lastIndexOf('\n') + 1;
    this.partial = all.slice(end);
    if (end === 0) return;
    this.out.write(this.active ? CLEAR_LINE + all.slice(0, end) + this.text : all.slice(0, end));
  };

  /** Replaces the status line with final text (a summary), ending it with a newline. */
  end(finalText?: string): void {
    if (!this.active) {
      if (finalText !== undefined) this.out.write(finalText + '\n');
      return;
    }
    this.active = false;
    this.out.write(CLEAR_LINE + (finalText !== undefined ? finalText + '\n' : '') + SHOW_CURSOR);
  }

  /** Longer than the terminal is wide, the line would wrap and the next clear would leave half. */
  private fit(text: string): string {
    const cols = this.out.columns || 80;
    return text.length < cols ? text : text.slice(0, Math.max(0, cols - 2)) + '…';
  }
}
