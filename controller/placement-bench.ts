/** The placement figure for `npm run bench`: many volumes over many simulated nodes. */
import { type PlacementNode, placeVolumes } from './placement.js';

const GiB = 1024 ** 3;

export function simulatedNodes(count: number, zones = 3): PlacementNode[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `node${i}`,
    labels: { rack: `r${i % 20}` },
    zone: `zone${i % zones}`,
    capacityBytes: 4096 * GiB,
    // Uneven fill, so "least used first" has something to choose.
    freeBytes: (2048 + (i % 97) * 16) * GiB,
    reservedBytes: 0,
    volumes: 0,
    schedulable: true,
  }));
}

/** Milliseconds to place `volumes` two-replica volumes of 1-64 GiB over `nodes` nodes. */
export function measurePlacement(
  volumes = 10_000,
  nodes = 1000,
): { ms: number; placed: number; refused: number } {
  const cluster = simulatedNodes(nodes);
  const requests = Array.from({ length: volumes }, (_, i) => ({ sizeBytes: (1 + (i % 64)) * GiB }));
  const start = performance.now();
  const { placed, refused } = placeVolumes(requests, cluster);
  return { ms: performance.now() - start, placed, refused };
}
