import { describe, expect, it } from 'vitest';
import { type PlacementNode, placeReplicas, placeVolumes } from './placement.js';

const GiB = 1024 ** 3;

function node(name: string, freeGiB: number, extra: Partial<PlacementNode> = {}): PlacementNode {
  return {
    name,
    labels: {},
    zone: null,
    capacityBytes: 100 * GiB,
    freeBytes: freeGiB * GiB,
    reservedBytes: 0,
    volumes: 0,
    schedulable: true,
    ...extra,
  };
}

describe('placeReplicas', () => {
  it('puts two replicas on the two least used nodes', () => {
    const p = placeReplicas({ sizeBytes: GiB }, [node('n1', 10), node('n2', 90), node('n3', 50)]);
    expect(p).toEqual({ ok: true, nodes: ['n2', 'n3'] });
  });

  it('counts reservations against free space', () => {
    const p = placeReplicas({ sizeBytes: 5 * GiB }, [
      node('n1', 10, { reservedBytes: 6 * GiB }),
      node('n2', 9),
      node('n3', 8),
    ]);
    expect(p).toEqual({ ok: true, nodes: ['n2', 'n3'] });
  });

  it('refuses with a message naming what is short and the closest node', () => {
    const p = placeReplicas({ sizeBytes: 5 * GiB }, [
      node('node1', 50),
      node('node2', 3),
      node('node3', 8, { schedulable: false }),
    ]);
    expect(p).toEqual({ ok: false, reason: 'no second node with 5 GiB free; node2 has 3 GiB' });
  });

  it('refuses when no node is schedulable', () => {
    const p = placeReplicas({ sizeBytes: GiB }, [node('n1', 50, { schedulable: false })]);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toContain('no first node with 1 GiB free');
  });

  it('honours the node selector', () => {
    const nodes = [
      node('n1', 90),
      node('n2', 20, { labels: { disk: 'ssd' } }),
      node('n3', 10, { labels: { disk: 'ssd' } }),
    ];
    expect(placeReplicas({ sizeBytes: GiB, nodeSelector: { disk: 'ssd' } }, nodes)).toEqual({
      ok: true,
      nodes: ['n2', 'n3'],
    });
    const refused = placeReplicas({ sizeBytes: GiB, nodeSelector: { disk: 'nvme' } }, nodes);
    expect(refused).toEqual({
      ok: false,
      reason: 'no first node with 1 GiB free; no other schedulable node matches the node selector',
    });
  });

  it('spreads across zones before choosing the least used', () => {
    const nodes = [
      node('a1', 90, { zone: 'a' }),
      node('a2', 80, { zone: 'a' }),
      node('b1', 20, { zone: 'b' }),
    ];
    expect(placeReplicas({ sizeBytes: GiB }, nodes)).toEqual({ ok: true, nodes: ['a1', 'b1'] });
  });

  it('falls back to one zone when only one has room', () => {
    const nodes = [
      node('a1', 90, { zone: 'a' }),
      node('a2', 80, { zone: 'a' }),
      node('b1', 0, { zone: 'b' }),
    ];
    expect(placeReplicas({ sizeBytes: GiB }, nodes)).toEqual({ ok: true, nodes: ['a1', 'a2'] });
  });

  it('makes the preferred node Primary when it fits, and ignores it when it does not', () => {
    const nodes = [node('n1', 90), node('n2', 80), node('n3', 5)];
    expect(placeReplicas({ sizeBytes: GiB, preferredNode: 'n3' }, nodes)).toEqual({
      ok: true,
      nodes: ['n3', 'n1'],
    });
    expect(placeReplicas({ sizeBytes: 10 * GiB, preferredNode: 'n3' }, nodes)).toEqual({
      ok: true,
      nodes: ['n1', 'n2'],
    });
  });

  it('excludes current replicas and spreads away from their zones when replacing one', () => {
    const nodes = [
      node('a1', 90, { zone: 'a' }),
      node('a2', 95, { zone: 'a' }),
      node('b1', 50, { zone: 'b' }),
      node('b2', 10, { zone: 'b' }),
    ];
    const p = placeReplicas({ sizeBytes: GiB, count: 1, exclude: ['a1', 'b1'], occupiedZones: ['a'] }, nodes);
    expect(p).toEqual({ ok: true, nodes: ['b2'] });
  });

  it('never over-commits a node across many placements (reservation as it goes)', () => {
    const nodes = [node('n1', 10), node('n2', 10), node('n3', 10)];
    const result = placeVolumes(
      Array.from({ length: 20 }, () => ({ sizeBytes: 2 * GiB })),
      nodes,
    );
    // 30 GiB over 3 nodes holds 15 replicas of 2 GiB: 7 volumes (14 replicas), the 8th has one node left.
    expect(result.placed).toBe(7);
    expect(result.refused).toBe(13);
    const perNode = new Map<string, number>();
    for (const p of result.placements)
      if (p.ok) for (const n of p.nodes) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    for (const count of perNode.values()) expect(count * 2).toBeLessThanOrEqual(10);
    // The input is untouched: callers keep their own view.
    expect(nodes[0]?.reservedBytes).toBe(0);
  });

  it('places 10,000 volumes over 1,000 nodes, all on distinct node pairs', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) =>
      node(`n${i}`, 1000, { capacityBytes: 1000 * GiB, zone: `z${i % 3}` }),
    );
    const result = placeVolumes(
      Array.from({ length: 10_000 }, () => ({ sizeBytes: 10 * GiB })),
      nodes,
    );
    expect(result.placed).toBe(10_000);
    for (const p of result.placements) if (p.ok) expect(new Set(p.nodes).size).toBe(2);
  });
});
