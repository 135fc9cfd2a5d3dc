/**
 * Progress of long work (sync, backup, restore) on stderr, so stdout stays clean for
 * `--output json`: a cli-progress bar on a terminal, plain lines every 10% otherwise
 * (logs and CI keep a readable record).
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  update(percent: number): void;
  stop(): void;
}

export function createProgress(
  label: string,
  options: { tty: boolean; stream?: NodeJS.WritableStream },
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.tty) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}%`,
      stream: stream as NodeJS.WriteStream,
      hideCursor: true,
      clearOnComplete: false,
      // We choose the bar only for a terminal; this keeps cli-progress from second-guessing the stream.
      noTTYOutput: true,
    });
    bar.start(100, 0);
    return {
      update: (percent) => bar.update(Math.floor(percent)),
      stop: () => bar.stop(),
    };
  }
  let lastStep = -1;
  return {
    update(percent) {
      const step = Math.floor(Math.min(100, Math.max(0, percent)) / 10);
      if (step === lastStep) return;
      lastStep = step;
      stream.write(`xlss: ${label} ${step * 10}%\n`);
    },
    stop() {},
  };
}
