// Bench helper, run inside a lab guest: runs each command of argv[2] (a JSON array; each
// entry an argument vector, or { argv, check: true } for a look whose non-zero exit is an
// answer, not a failure) one after the other, without a shell, and prints one JSON
// object: every command's wall time in ms measured here, in the guest, so the lab's exec
// round trip is not counted. Stops at the first command that fails.
import { spawnSync } from 'node:child_process';

const commands = JSON.parse(process.argv[2] ?? '[]');
const timings = [];
for (const entry of commands) {
  const argv = Array.isArray(entry) ? entry : entry.argv;
  const check = !Array.isArray(entry) && entry.check === true;
  const t = performance.now();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  const ms = performance.now() - t;
  timings.push({ argv, ms, exitCode: r.status, check, stderr: (r.stderr ?? '').slice(-400) });
  if (r.status !== 0 && !check) break;
}
process.stdout.write(`${JSON.stringify({ timings })}\n`);
