// Bench helper, run inside a lab guest: runs each command of argv[2] (a JSON array of
// argument vectors) one after the other, without a shell, and prints one JSON object:
// every command's wall time in ms measured here, in the guest, so the lab's exec round
// trip is not counted. Stops at the first command that fails.
import { spawnSync } from 'node:child_process';

const commands = JSON.parse(process.argv[2] ?? '[]');
const timings = [];
for (const argv of commands) {
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  const ms = performance.now() - t;
  timings.push({ argv, ms, exitCode: r.status, stderr: (r.stderr ?? '').slice(-400) });
  if (r.status !== 0) break;
}
process.stdout.write(`${JSON.stringify({ timings })}\n`);
