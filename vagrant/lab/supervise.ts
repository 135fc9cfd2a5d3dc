import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long to wait before starting a crashed service again: 1 s, doubling, at most 30 s. */
export function restartDelayMs(failuresInARow: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failuresInARow - 1));
}

/** A run this long counts as healthy: the next crash starts the back-off from 1 s again. */
const HEALTHY_MS = 10_000;

function say(line: string): void {
  process.stdout.write(`${new Date().toISOString()} xlss supervise: ${line}\n`);
}

/**
 * Runs `argv` for as long as this process lives (the body of `xlss lab supervise`):
 * the child shares our standard output (the service's log) and our process group, so
 * signalling the group ends both. SIGTERM stops the child and then us.
 */
export async function supervise(name: string, argv: string[]): Promise<never> {
  const [command, ...args] = argv;
  if (!command) throw new Error('supervise: no command');
  let child: ChildProcess | undefined;
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
    say(`${name}: stopping`);
    if (child && child.exitCode === null) child.kill('SIGTERM');
    else process.exit(0);
  });
  let failures = 0;
  for (;;) {
    const started = Date.now();
    say(`${name}: starting ${argv.join(' ')}`);
    const c = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], shell: false });
    child = c;
    const result = await new Promise<string>((resolve) => {
      c.once('error', (err) => resolve(`could not start: ${err.message}`));
      c.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with code ${code}`));
    });
    if (stopping) {
      say(`${name}: ${result}; stopped`);
      process.exit(0);
    }
    failures = Date.now() - started >= HEALTHY_MS ? 1 : failures + 1;
    const delay = restartDelayMs(failures);
    say(`${name}: ${result}; restarting in ${delay / 1000} s`);
    await sleep(delay);
  }
}
