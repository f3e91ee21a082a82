/** What a long command reports as it goes. */
export interface Progress {
  /** A word for the step (e.g. "events", "counters", "done"). */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  /** The unit counted (rows, events). */
  readonly unit: string;
  readonly perSecond: number;
}

/**
 * A progress bar on a terminal (redrawn in place), a line every two seconds
 * into a log file or a pipe. The phase "done" ends the bar.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: Progress) => void {
  let last = 0;
  return (p) => {
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const text = `${p.phase.padEnd(11)} ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} ${p.unit} · ${Math.round(p.perSecond).toLocaleString('en-US')} ${p.unit}/s`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${text}\x1b[K${p.phase === 'done' ? '\n' : ''}`);
    } else if (p.phase === 'done' || Date.now() - last > 2000) {
      last = Date.now();
      stream.write(`${String(Math.round(fraction * 100)).padStart(3)}% ${text}\n`);
    }
  };
}
