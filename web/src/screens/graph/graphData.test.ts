import { describe, expect, it } from 'vitest';
import { toGraph } from './graphData';

describe('toGraph', () => {
  it('draws users as nodes and shared devices or IPs as labelled edges, once per pair', () => {
    const root = { id: '1', username: 'alice' };
    const g = toGraph(root, [
      { user: { id: '2', username: 'bob' }, depth: 1, evidence: [
        { kind: 'DEVICE', value: 'fp-emu', fromUser: { id: '1' }, toUser: { id: '2' } },
        { kind: 'IP', value: '203.0.113.9', fromUser: { id: '1' }, toUser: { id: '2' } },
      ] },
      { user: { id: '3', username: 'carol' }, depth: 2, evidence: [
        { kind: 'DEVICE', value: 'fp-emu', fromUser: { id: '2' }, toUser: { id: '3' } },
        { kind: 'DEVICE', value: 'fp-emu', fromUser: { id: '3' }, toUser: { id: '2' } },
      ] },
    ]);
    expect(g.nodes.map((n) => [n.label, n.depth, n.root])).toEqual([['alice', 0, true], ['bob', 1, false], ['carol', 2, false]]);
    expect(g.edges.map((e) => e.label)).toEqual(['device fp-emu', 'IP 203.0.113.9', 'device fp-emu']);
    expect(g.edges[2]).toMatchObject({ source: '2', target: '3' });
  });
  it('skips evidence pointing at users outside the picture and defaults the target', () => {
    const g = toGraph({ id: '1', username: 'a' }, [
      { user: { id: '2', username: 'b' }, depth: 1, evidence: [
        { kind: 'IP', value: 'x', fromUser: { id: '9' }, toUser: { id: '2' } },
        { kind: 'IP', value: 'y', fromUser: { id: '1' } },
      ] },
    ]);
    expect(g.edges).toEqual([{ id: '1-2-IP-y', source: '1', target: '2', kind: 'IP', label: 'IP y' }]);
  });
});
