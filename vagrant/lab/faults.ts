import { ValidationError } from '../../common/errors.js';

/**
 * Faults finer than a whole node: a cut between two nodes only (nftables, bridge family,
 * in the lab's namespace) and a degraded link (tc netem, applied inside the guest: the
 * guests run Debian's kernel, which has netem, while the host's kernel may not).
 */

/** Two node names, sorted, so a cut has one spelling whichever order it was asked in. */
export type NodePair = [string, string];

/**
 * The lab's host side as one end of a cut: the bridge itself, where the controller and
 * the host's forwards live. `lab partition node1 host` cuts the controller off from
 * node1 while node1 still reaches the other nodes.
 */
export const HOST_SIDE = 'host';

export interface NetemSpec {
  /** tc's spelling, e.g. "50ms". */
  delay?: string;
  /** tc's spelling, e.g. "1%". */
  loss?: string;
}

/** The nftables table the lab's cuts live in (one per namespace, so one per lab). */
export const CUTS_TABLE = 'xlss_lab';

export function nodePair(a: string, b: string, known: string[]): NodePair {
  for (const [field, n] of [
    ['first node', a],
    ['second node', b],
  ] as const)
    if (!known.includes(n) && n !== HOST_SIDE)
      throw new ValidationError(
        field,
        `no node "${n}" in the lab (nodes: ${known.join(', ')}; "${HOST_SIDE}" for the host side)`,
      );
  if (a === b) throw new ValidationError('second node', `a node cannot be cut from itself ("${a}")`);
  return a < b ? [a, b] : [b, a];
}

export function samePair(x: NodePair, y: NodePair): boolean {
  return x[0] === y[0] && x[1] === y[1];
}

const DELAY = /^(\d{1,5})(\.\d{1,3})?(us|ms|s)$/;
const LOSS = /^(\d{1,3})(\.\d{1,3})?%$/;

/** Validates `lab netem` options; at least one of delay and loss is required. */
export function netemSpec(input: { delay?: string | undefined; loss?: string | undefined }): NetemSpec {
  const spec: NetemSpec = {};
  if (input.delay !== undefined) {
    if (!DELAY.test(input.delay))
      throw new ValidationError('--delay', `must be a time like 50ms, 1.5s or 200us, got "${input.delay}"`);
    spec.delay = input.delay;
  }
  if (input.loss !== undefined) {
    if (!LOSS.test(input.loss) || Number.parseFloat(input.loss) > 100)
      throw new ValidationError(
        '--loss',
        `must be a percentage from 0% to 100%, like 1% or 0.5%, got "${input.loss}"`,
      );
    spec.loss = input.loss;
  }
  if (spec.delay === undefined && spec.loss === undefined)
    throw new ValidationError('netem', 'give --delay, --loss or both (or --clear)');
  return spec;
}

/** tc's arguments that put `spec` on the guest's interface (replacing what was there). */
export function netemArgs(dev: string, spec: NetemSpec): string[] {
  return [
    'qdisc',
    'replace',
    'dev',
    dev,
    'root',
    'netem',
    ...(spec.delay ? ['delay', spec.delay] : []),
    ...(spec.loss ? ['loss', spec.loss] : []),
  ];
}

export function describeNetem(spec: NetemSpec): string {
  return [spec.delay ? `delay ${spec.delay}` : '', spec.loss ? `loss ${spec.loss}` : '']
    .filter(Boolean)
    .join(' ');
}

/**
 * The whole nftables script for a set of cuts: the table is created, emptied and filled
 * in one transaction, so applying it is idempotent and a heal is just a smaller script.
 * Frames between two taps are dropped where the bridge forwards them; a cut from the host
 * side drops the node's frames to the bridge itself (input) and the bridge's to the node
 * (output). Everything else passes.
 */
export function cutsRuleset(cuts: NodePair[], tapOf: (node: string) => string): string {
  const forward: string[] = [];
  const input: string[] = [];
  const output: string[] = [];
  for (const [a, b] of cuts) {
    const comment = `comment "cut ${a} ${b}"`;
    const node = a === HOST_SIDE ? b : b === HOST_SIDE ? a : null;
    if (node !== null) {
      const t = tapOf(node);
      input.push(`    iifname "${t}" drop ${comment}`);
      output.push(`    oifname "${t}" drop ${comment}`);
      continue;
    }
    const [ta, tb] = [tapOf(a), tapOf(b)];
    forward.push(`    iifname "${ta}" oifname "${tb}" drop ${comment}`);
    forward.push(`    iifname "${tb}" oifname "${ta}" drop ${comment}`);
  }
  const chain = (name: string, rules: string[]) => [
    `  chain ${name} {`,
    `    type filter hook ${name} priority 0; policy accept;`,
    ...rules,
    '  }',
  ];
  return [
    `table bridge ${CUTS_TABLE}`,
    `flush table bridge ${CUTS_TABLE}`,
    `table bridge ${CUTS_TABLE} {`,
    ...chain('forward', forward),
    ...chain('input', input),
    ...chain('output', output),
    '}',
    '',
  ].join('\n');
}
