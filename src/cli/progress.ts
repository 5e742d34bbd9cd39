/** A progress bar on stderr for transfers over a few MB, only on a terminal; silent when piped. */
import type { SingleBar } from 'cli-progress';
import { colorOn, humanSize } from './output.js';

const THRESHOLD = Number(process.env.MILLRACE_PROGRESS_MIN_BYTES) || 4 * 1024 * 1024;

export type Progress = { update: (bytes: number) => void; stop: () => void };

const silent: Progress = { update: () => undefined, stop: () => undefined };

export async function progress(total: number | undefined, label: string): Promise<Progress> {
  if (!process.stderr.isTTY || total === undefined || total < THRESHOLD) return silent;
  // Loaded only when a bar is drawn.
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const bar: SingleBar = new SingleBar(
    {
      stream: process.stderr,
      format: `{bar} {percentage}% {done}/{size} ${label}`,
      hideCursor: true,
      barsize: 24,
      clearOnComplete: true,
      formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? humanSize(v) : String(v)),
    },
    colorOn(process.stderr) ? Presets.shades_classic : Presets.legacy,
  );
  bar.start(total, 0, { done: humanSize(0), size: humanSize(total) });
  return {
    update: (bytes) => bar.update(Math.min(bytes, total), { done: humanSize(bytes) }),
    stop: () => bar.stop(),
  };
}

