import type { RegisterCommands } from '../../cli/program.js';
import { type AdminCommandOptions, AdminContext } from './admin-context.js';
import { registerNodeCommands } from './node-commands.js';
import { registerOpsCommands } from './ops-commands.js';
import { registerVolumeCommands } from './volume-commands.js';

/** The admin commands (`volume`, `node`, `failover`, `backup`, `restore`, `events`), talking to the controller. */
export function registerAdminCommands(options: AdminCommandOptions = {}): RegisterCommands {
  const ctx = new AdminContext(options);
  return (program) => {
    registerVolumeCommands(program, ctx);
    registerNodeCommands(program, ctx);
    registerOpsCommands(program, ctx);
  };
}
