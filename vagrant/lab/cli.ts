import type { Command } from 'commander';

/** `xlss lab …`: the qemu lab. */
export function registerLabCommands(program: Command): void {
  program.command('lab').description('the lab: qemu guests with real LVM and DRBD');
}
