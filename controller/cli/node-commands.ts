import type { Command } from 'commander';
import { XlssError } from '../../common/errors.js';
import { parseDuration } from '../duration.js';
import { type AdminContext, withConnection } from './admin-context.js';
import { formatNodeDetail, formatNodeTable } from './format.js';
import { checkName, collect, nodeAddRequest } from './options.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `xlss node add|list|show|drain`. */
export function registerNodeCommands(program: Command, ctx: AdminContext): void {
  const node = program.command('node').description('the nodes running an xlss daemon');

  // --token-file here is the daemon's token; the controller's comes from XLSS_TOKEN_FILE or the context.
  withConnection(
    node
      .command('add <name>')
      .description(
        "register a node's daemon with the controller (the controller's token: XLSS_TOKEN_FILE or the context)",
      )
      .option('--url <url>', "the daemon's URL, e.g. http://10.77.0.11:7680")
      .option('--token-file <file>', "file holding the daemon's token, on the controller's machine")
      .option('--address <ip>', 'replication (DRBD) address when it differs from the URL host')
      .option('--label <k=v>', 'a label for placement (repeatable)', collect, [])
      .option('--zone <zone>', 'failure zone; replicas are spread across zones'),
    { tokenFile: false },
  ).action(async (name: string, o: Parameters<typeof nodeAddRequest>[1], cmd: Command) => {
    const output = ctx.output(cmd);
    const req = nodeAddRequest(name, o);
    const n = await ctx.client(cmd).addNode(req);
    ctx.render(output, n, formatNodeDetail);
  });

  withConnection(node.command('list').description('every node, its health, free space and labels')).action(
    async (_o: unknown, cmd: Command) => {
      const output = ctx.output(cmd);
      const nodes = await ctx.client(cmd).listNodes();
      ctx.render(output, nodes, formatNodeTable);
    },
  );

  withConnection(node.command('show <name>').description('one node')).action(
    async (name: string, _o: unknown, cmd: Command) => {
      const output = ctx.output(cmd);
      checkName(name, 'NAME');
      const n = await ctx.client(cmd).getNode(name);
      ctx.render(output, n, formatNodeDetail);
    },
  );

  withConnection(
    node
      .command('drain <name>')
      .description('move every Primary and every replica off a node, one volume at a time')
      .option('--wait', 'wait until the node holds no volume')
      .option('--timeout <duration>', 'give up waiting after this long', '1h'),
  ).action(async (name: string, o: { wait?: boolean; timeout: string }, cmd: Command) => {
    const output = ctx.output(cmd);
    checkName(name, 'NAME');
    const timeoutMs = parseDuration(o.timeout, '--timeout');
    const client = ctx.client(cmd);
    const jobId = await client.drainNode(name);
    if (o.wait) {
      const deadline = Date.now() + timeoutMs;
      for (let n = await client.getNode(name); n.volumes > 0; n = await client.getNode(name)) {
        if (n.drain?.state === 'incomplete')
          throw new XlssError('EFAILED', `drain of ${name}: ${n.drain.message}`);
        if (Date.now() > deadline)
          throw new XlssError('ETIMEOUT', `node ${name} still holds ${n.volumes} volumes; see "xlss events"`);
        ctx.note(`drain ${name}: ${n.volumes} volumes left`);
        await sleep(ctx.pollMs);
      }
    }
    if (output === 'json') ctx.printJson({ node: name, jobId, drained: o.wait === true });
    else
      ctx.print(
        o.wait
          ? `node ${name} drained`
          : `draining node ${name} (job ${jobId}); follow with "xlss events --follow"`,
      );
  });
}
