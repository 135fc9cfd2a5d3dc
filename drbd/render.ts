import type { DrbdGeneration, DrbdNode, OptionValue, ResourceSpec } from './model.js';
import { validateResourceSpec } from './validate.js';

type Entry = [key: string, value: string];

function formatValue(value: OptionValue): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

function section(name: string, entries: Entry[], indent: string): string[] {
  if (entries.length === 0) return [];
  // Sorted so that the same spec always gives the same bytes, whatever order it was built in.
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [`${indent}${name} {`, ...sorted.map(([k, v]) => `${indent}  ${k} ${v};`), `${indent}}`];
}

function addressLine(node: DrbdNode, defaultPort: number): string {
  const port = node.port ?? defaultPort;
  const family = node.address.includes(':') ? 'ipv6' : 'ipv4';
  const host = family === 'ipv6' ? `[${node.address}]` : node.address;
  return `address ${family} ${host}:${port};`;
}

function onSection(spec: ResourceSpec, node: DrbdNode, generation: DrbdGeneration): string[] {
  const lines = [`  on ${node.hostname} {`];
  if (generation === '9') lines.push(`    node-id ${node.nodeId};`);
  const flat = generation === '8.4' && spec.volumes.length === 1 && spec.volumes[0]?.volume === 0;
  spec.volumes.forEach((v, i) => {
    const body = [
      `device /dev/drbd${v.minor} minor ${v.minor};`,
      `disk ${node.disks[i]};`,
      'meta-disk internal;',
    ];
    if (flat) lines.push(...body.map((l) => `    ${l}`));
    else lines.push(`    volume ${v.volume} {`, ...body.map((l) => `      ${l}`), '    }');
  });
  lines.push(`    ${addressLine(node, spec.port)}`, '  }');
  return lines;
}

/**
 * The `.res` file for `spec`, in the syntax of the given DRBD generation. Pure and
 * deterministic: nodes are ordered by host name and options by name, so both replicas
 * render byte-identical files. Validates first, because the output is only safe for
 * validated input.
 */
export function renderResourceFile(spec: ResourceSpec, generation: DrbdGeneration): string {
  validateResourceSpec(spec, generation);
  const net: Entry[] = [
    ['protocol', spec.protocol],
    ['allow-two-primaries', 'no'],
  ];
  for (const [k, v] of Object.entries(spec.net ?? {})) {
    if (k !== 'allow-two-primaries') net.push([k, formatValue(v)]);
  }
  if (spec.sharedSecret !== undefined && spec.cramHmacAlg !== undefined) {
    net.push(['cram-hmac-alg', spec.cramHmacAlg], ['shared-secret', `"${spec.sharedSecret}"`]);
  }
  const disk: Entry[] = Object.entries(spec.disk ?? {}).map(([k, v]) => [k, formatValue(v)]);
  if (spec.fencing !== undefined) {
    // drbd.conf-8.4(5) has fencing under disk; drbd.conf-9.0(5) moved it to net.
    (generation === '8.4' ? disk : net).push(['fencing', spec.fencing]);
  }
  // Validation has refused every option the generation lacks, so this renders as given.
  const options: Entry[] = Object.entries(spec.options ?? {}).map(([k, v]) => [k, formatValue(v)]);
  const handlers: Entry[] = Object.entries(spec.handlers ?? {})
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([k, v]) => [k, `"${v}"`]);

  const nodes = [...spec.nodes].sort((a, b) =>
    a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0,
  );
  const lines = [
    '# Written by xlss; local edits are overwritten.',
    `resource ${spec.name} {`,
    ...section('options', options, '  '),
    ...section('net', net, '  '),
    ...section('disk', disk, '  '),
    ...section('handlers', handlers, '  '),
    ...nodes.flatMap((n) => onSection(spec, n, generation)),
  ];
  if (generation === '9') {
    lines.push('  connection-mesh {', `    hosts ${nodes.map((n) => n.hostname).join(' ')};`, '  }');
  }
  lines.push('}', '');
  return lines.join('\n');
}
