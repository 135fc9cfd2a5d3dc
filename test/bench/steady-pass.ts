/**
 * Commands one steady reconcile pass runs, at 10, 100 and 1000 volumes: the real volume
 * engine (createVolumeEngine) over the in-memory fake node, with the real LVM JSON and
 * events2 parsing. A pass counts only once every volume is 'ready' (converged);
 * otherwise the figure is named `_NOT_CONVERGED`.
 */
import { countSteadyPassCommands } from '../../daemon/volumes/steady-pass.js';
import { report } from './figures.js';

export async function benchSteadyPass(sizes: readonly number[] = [10, 100, 1000]): Promise<void> {
  const counts = new Map<number, number>();
  for (const volumes of sizes) {
    const r = await countSteadyPassCommands(volumes);
    const converged = r.ready === volumes;
    const name = `steady_pass_commands_${volumes}_volumes${converged ? '' : '_NOT_CONVERGED'}`;
    report(name, r.commands, 'commands');
    report(
      `steady_pass_change_commands_${volumes}_volumes${converged ? '' : '_NOT_CONVERGED'}`,
      r.changeCommands,
      'commands',
    );
    if (converged) counts.set(volumes, r.commands);
  }
  const [first] = sizes;
  const last = sizes[sizes.length - 1];
  const low = first !== undefined ? counts.get(first) : undefined;
  const high = last !== undefined ? counts.get(last) : undefined;
  if (low !== undefined && high !== undefined && first !== last)
    report(`steady_pass_commands_${last}_vs_${first}_volumes`, high, 'commands', low);
}
