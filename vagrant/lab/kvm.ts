import { existsSync } from 'node:fs';
import { XlssError } from '../../common/errors.js';
import { CommandError, type CommandRunner } from '../../common/runner.js';

export const PROBE_MARKER = 'xlss-init: probe ok';

/**
 * KVM only where it works: boots the lab's kernel and initramfs once with KVM as far as
 * the initramfs (which powers off at once when probing) and gives up after `timeoutMs`.
 * On some hosts /dev/kvm exists yet qemu fails with `-cpu host` or hangs: both end here
 * with one message, instead of a lab that never boots.
 */
export async function probeKvm(
  runner: CommandRunner,
  boot: { kernel: string; initrd: string },
  opts: { timeoutMs?: number; devKvm?: string } = {},
): Promise<void> {
  const fix = 'run without --accel kvm to use TCG (the default)';
  if (!existsSync(opts.devKvm ?? '/dev/kvm'))
    throw new XlssError('ELABKVM', `--accel kvm: this host has no /dev/kvm; ${fix}`);
  let output = '';
  let why = '';
  try {
    const r = await runner.run(
      'qemu-system-x86_64',
      [
        ...['-accel', 'kvm', '-cpu', 'host', '-machine', 'q35', '-m', '256', '-smp', '1'],
        ...[
          '-display',
          'none',
          '-no-reboot',
          '-serial',
          'stdio',
          '-kernel',
          boot.kernel,
          '-initrd',
          boot.initrd,
        ],
        ...['-append', 'console=ttyS0 panic=-1 xlss.probe=1'],
      ],
      { timeoutMs: opts.timeoutMs ?? 30_000, reject: false },
    );
    output = r.stdout;
    why =
      r.exitCode === 0
        ? 'the guest did not reach its initramfs'
        : `qemu exited with ${r.exitCode}: ${r.stderr.trim()}`;
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    why = err.timedOut ? 'a probe guest did not get through boot in time' : err.message;
  }
  if (!output.includes(PROBE_MARKER))
    throw new XlssError(
      'ELABKVM',
      `--accel kvm: KVM does not work on this host (${why.slice(0, 300)}); ${fix}`,
    );
}
