// Turns User.relatedUsers into node-link data: users as nodes, each shared
// device or IP as one labelled edge between the two users it links.
export type Related = {
  user: { id: string; username: string; status?: string };
  depth: number;
  evidence: { kind: string; value: string; fromUser?: { id: string } | null; toUser?: { id: string } | null }[];
};
export type GraphNode = { id: string; label: string; depth: number; root: boolean };
export type GraphEdge = { id: string; source: string; target: string; label: string; kind: string };

export function toGraph(root: { id: string; username: string }, related: Related[]) {
  const nodes = new Map<string, GraphNode>([[root.id, { id: root.id, label: root.username, depth: 0, root: true }]]);
  for (const r of related) {
    if (!nodes.has(r.user.id)) nodes.set(r.user.id, { id: r.user.id, label: r.user.username, depth: r.depth, root: false });
  }
  const edges = new Map<string, GraphEdge>();
  for (const r of related) {
    for (const e of r.evidence) {
      const from = e.fromUser?.id;
      const to = e.toUser?.id ?? r.user.id;
      if (!from || !nodes.has(from) || !nodes.has(to) || from === to) continue;
      // One edge per pair and link, whichever way round it was found.
      const [a, b] = [from, to].sort();
      const id = `${a}-${b}-${e.kind}-${e.value}`;
      if (!edges.has(id)) edges.set(id, { id, source: from, target: to, kind: e.kind, label: `${e.kind === 'DEVICE' ? 'device' : 'IP'} ${e.value}` });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}
