import type { CommandRunner } from '../../common/runner.js';

/**
 * The lab's network: one namespace with a bridge (the host side of the lab has an
 * address on it) and a tap per guest. Nothing is routed out of the namespace.
 */
export class LabNetwork {
  constructor(
    private readonly runner: CommandRunner,
    readonly netns: string,
  ) {}

  private ip(args: string[], reject = true) {
    return this.runner.run('ip', ['-n', this.netns, ...args], { reject });
  }

  async exists(): Promise<boolean> {
    const r = await this.runner.run('ip', ['netns', 'list'], { readOnly: true });
    return r.stdout.split('\n').some((l) => l.split(' ')[0] === this.netns);
  }

  async create(hostIp: string, taps: string[]): Promise<void> {
    if (!(await this.exists())) await this.runner.run('ip', ['netns', 'add', this.netns]);
    await this.ip(['link', 'set', 'lo', 'up']);
    const links = (await this.ip(['-o', 'link', 'show'])).stdout;
    const has = (name: string) => new RegExp(`^\\d+: ${name}[:@]`, 'm').test(links);
    if (!has('br0')) await this.ip(['link', 'add', 'br0', 'type', 'bridge']);
    await this.ip(['addr', 'replace', `${hostIp}/24`, 'dev', 'br0']);
    await this.ip(['link', 'set', 'br0', 'up']);
    for (const tap of taps) {
      if (!has(tap)) await this.ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await this.ip(['link', 'set', tap, 'master', 'br0']);
      await this.ip(['link', 'set', tap, 'up']);
    }
  }

  /** Cuts a guest off: its tap goes down, so nothing reaches it or leaves it. */
  async partition(tap: string): Promise<void> {
    await this.ip(['link', 'set', tap, 'down']);
  }

  async heal(tap: string): Promise<void> {
    await this.ip(['link', 'set', tap, 'up']);
  }

  /** Removes the namespace and with it the bridge and taps; succeeds when it is gone already. */
  async destroy(): Promise<void> {
    if (await this.exists()) await this.runner.run('ip', ['netns', 'delete', this.netns]);
  }

  /** Runs a command inside the lab's namespace (qemu must open its tap there). */
  wrap(command: string, args: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.netns, command, ...args]];
  }
}
