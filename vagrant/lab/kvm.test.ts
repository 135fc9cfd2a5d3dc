import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeRunner } from '../../common/fake-runner.js';
import { PROBE_MARKER, probeKvm } from './kvm.js';

const boot = { kernel: '/boot/vmlinuz-x', initrd: '/tmp/initrd' };
const devKvm = join(mkdtempSync(join(tmpdir(), 'xlss-kvm-')), 'kvm');
writeFileSync(devKvm, '');

describe('probeKvm', () => {
  it('passes when the probe guest reaches its initramfs under KVM', async () => {
    const fake = new FakeRunner().on('qemu-system-x86_64', [], { stdout: `booting\n${PROBE_MARKER}\n` });
    await probeKvm(fake, boot, { devKvm });
    const args = fake.argsOf('qemu-system-x86_64')[0] ?? [];
    expect(args.slice(0, 4)).toEqual(['-accel', 'kvm', '-cpu', 'host']);
    expect(args).toContain('console=ttyS0 panic=-1 xlss.probe=1');
    expect(fake.calls[0]?.options.timeoutMs).toBe(30_000);
  });

  it('fails with one message naming the fix when qemu cannot use KVM', async () => {
    const fake = new FakeRunner().on('qemu-system-x86_64', [], {
      exitCode: 1,
      stderr: 'qemu-system-x86_64: failed to initialize kvm: Operation not supported',
    });
    await expect(probeKvm(fake, boot, { devKvm })).rejects.toThrow(
      /KVM does not work on this host \(qemu exited with 1: .*failed to initialize kvm.*\); run without --accel kvm/,
    );
  });

  it('fails when the guest never gets through boot', async () => {
    const fake = new FakeRunner().on('qemu-system-x86_64', [], { stdout: 'SeaBIOS\n' });
    await expect(probeKvm(fake, boot, { devKvm })).rejects.toThrow(/did not reach its initramfs/);
  });

  it('runs nothing on a host without /dev/kvm', async () => {
    const fake = new FakeRunner();
    await expect(probeKvm(fake, boot, { devKvm: '/nonexistent/kvm' })).rejects.toThrow(/no \/dev\/kvm/);
    expect(fake.calls).toHaveLength(0);
  });
});
