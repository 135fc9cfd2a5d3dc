/**
 * Readiness for systemd (Type=notify): node cannot write to the unix datagram socket in
 * NOTIFY_SOCKET itself, so `systemd-notify` sends the message, through the runner like
 * every process. The unit sets NotifyAccess=all because the sender is a child of the
 * daemon; systemd-notify waits until systemd has taken the message (sd_notify_barrier),
 * so it is never lost to the child's exit.
 */
import type { Logger } from '../common/log.js';
import type { CommandRunner } from '../common/runner.js';

export async function notifySystemd(
  runner: CommandRunner,
  log: Logger,
  message: 'READY=1' | 'STOPPING=1',
  status: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  if (!env.NOTIFY_SOCKET) return false;
  try {
    await runner.run('systemd-notify', [message, `STATUS=${status}`], { timeoutMs: 10_000 });
    return true;
  } catch (err) {
    // Without READY=1 systemd times the start out and restarts us: say why here.
    log.error({ err: (err as Error).message, message }, 'systemd-notify failed');
    return false;
  }
}
