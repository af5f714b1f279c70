import { useEffect, useRef } from 'react';
import { useQuery } from 'urql';
import cytoscape from 'cytoscape';
import { graphql } from '../../gql';
import { ErrorNotice, Loading } from '../../ui/ui';
import { toGraph } from './graphData';

const Related = graphql(`
  query Related($id: ID!, $depth: Int) {
    user(id: $id) {
      id username
      relatedUsers(depth: $depth) {
        depth
        user { id username status }
        evidence { kind value fromUser { id } toUser { id } }
      }
    }
  }
`);

export default function RelatedGraph({ userId, depth }: { userId: string; depth: number }) {
  const [res] = useQuery({ query: Related, variables: { id: userId, depth } });
  const box = useRef<HTMLDivElement>(null);
  const user = res.data?.user;
  const graph = user ? toGraph(user, user.relatedUsers) : null;

  useEffect(() => {
    if (!box.current || !graph) return;
    const cy = cytoscape({
      container: box.current,
      elements: [
        ...graph.nodes.map((n) => ({ data: { ...n }, classes: n.root ? 'root' : `d${n.depth}` })),
        ...graph.edges.map((e) => ({ data: { ...e }, classes: e.kind.toLowerCase() })),
      ],
      layout: { name: 'cose', animate: false, randomize: false, padding: 30, idealEdgeLength: () => 140, nodeRepulsion: () => 400000 },
      style: [
        { selector: 'node', style: { label: 'data(label)', 'background-color': '#5b7db1', color: '#1b2430', 'font-size': 11, 'text-valign': 'bottom', 'text-margin-y': 4 } },
        { selector: 'node.root', style: { 'background-color': '#c0392b', width: 36, height: 36 } },
        { selector: 'edge', style: { label: 'data(label)', 'font-size': 9, color: '#555', width: 2, 'line-color': '#9aa7b8', 'curve-style': 'bezier', 'text-rotation': 'autorotate' } },
        { selector: 'edge.device', style: { 'line-color': '#d68910' } },
      ],
    });
    box.current.dataset.nodes = String(cy.nodes().length);
    box.current.dataset.edges = String(cy.edges().length);
    return () => cy.destroy();
    // The graph's content is keyed by what was fetched.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [res.data]);

  return (
    <>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !res.data} />
      {graph && <p className="muted small">{graph.nodes.length - 1} related users, {graph.edges.length} shared devices or addresses (orange: device, grey: IP).</p>}
      <div ref={box} className="graph" data-testid="related-graph" role="img" aria-label="Users linked by shared devices and IP addresses" />
    </>
  );
}
