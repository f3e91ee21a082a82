import type { RebuildProgress } from '@el/read-models';

function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/**
 * A progress bar with events/s and ETA on a terminal; a line every few
 * seconds when the output is a log file or pipe.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (p: RebuildProgress) => void {
  let lastLine = 0;
  return (p) => {
    const fraction = p.head > 0 ? Math.min(1, p.position / p.head) : 1;
    const rate = `${Math.round(p.eventsPerSecond).toLocaleString('en-US')} events/s`;
    const label = p.phase === 'copy' ? 'copying' : p.phase === 'index' ? 'indexing' : p.phase === 'swap' ? 'swapping in' : 'done';
    const text = `${label.padEnd(11)} ${p.position.toLocaleString('en-US')}/${p.head.toLocaleString('en-US')} events · ${rate} · ETA ${p.phase === 'copy' ? duration(p.etaSeconds) : '0:00'}`;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${text}\x1b[K${p.phase === 'done' ? '\n' : ''}`);
    } else if (p.phase !== 'copy' || Date.now() - lastLine > 2000) {
      lastLine = Date.now();
      stream.write(`${String(Math.round(fraction * 100)).padStart(3)}% ${text}\n`);
    }
  };
}
