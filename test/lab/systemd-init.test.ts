import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useLab } from './helpers/lab.js';

// A guest with systemd as PID 1 (`xlss lab up --init systemd`): how xlss's own units
// under systemd/ will run for real in the lab.
const lab = useLab('systemd-init', { nodes: 1, disk: '256MiB', init: 'systemd' });

/** Runs `script` on node1 until it succeeds (the agent may be restarting meanwhile). */
async function eventually(script: string, ok: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      last = await lab.sh('node1', script);
      if (ok(last)) return last;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`gave up on ${script}: ${last}`);
    await sleep(1000);
  }
}

describe('the lab with --init systemd', () => {
  it('runs systemd as PID 1 and the lab agent as a unit', async () => {
    expect((await lab.sh('node1', 'cat /proc/1/comm')).trim()).toBe('systemd');
    expect((await lab.sh('node1', 'systemctl is-active xlss-lab-agent')).trim()).toBe('active');
  });

  it('reaches a running system with no failed unit', async () => {
    // is-system-running exits non-zero unless "running": read its word, not its status.
    const state = (await lab.sh('node1', 'systemctl is-system-running --wait || true')).trim();
    const failed = (await lab.sh('node1', 'systemctl --failed --no-legend --plain --full')).trim();
    expect(['running', 'degraded'], `state ${state}; failed units:\n${failed || '(none)'}`).toContain(state);
    expect(failed, `failed units:\n${failed}`).toBe('');
  });

  it('restarts the agent when it dies', async () => {
    const before = await lab.sh('node1', 'systemctl show -p MainPID -p NRestarts xlss-lab-agent');
    const pid = Number(/MainPID=(\d+)/.exec(before)?.[1]);
    const restarts = Number(/NRestarts=(\d+)/.exec(before)?.[1]);
    expect(pid).toBeGreaterThan(1);
    // Killed from a detached child, after this command has returned its output: the
    // agent carries the command's result, so it must not die under it.
    await lab.sh('node1', `(sleep 1; kill -9 ${pid}) </dev/null >/dev/null 2>&1 &`);
    const after = await eventually(
      'systemctl show -p MainPID -p NRestarts -p ActiveState xlss-lab-agent',
      (out) => !out.includes(`MainPID=${pid}\n`) && /ActiveState=active/.test(out),
    );
    expect(Number(/MainPID=(\d+)/.exec(after)?.[1])).not.toBe(pid);
    expect(Number(/NRestarts=(\d+)/.exec(after)?.[1])).toBeGreaterThan(restarts);
  });
});
