// diffVersions pairs each rule version (newest first) with what changed from
// the one before it; the first version lists its condition only.
export type Version = Record<string, unknown> & { version: number };
export type Change = { field: string; before?: string; after: string };

const fields = ['name', 'description', 'condition', 'score', 'priority', 'type', 'action', 'enabled', 'shadow'];

export function diffVersions<V extends Version>(versions: V[]): { v: V; changes: Change[] }[] {
  const sorted = [...versions].sort((a, b) => b.version - a.version);
  return sorted.map((v, i) => {
    const prev = sorted[i + 1];
    if (!prev) return { v, changes: [{ field: 'condition', after: String(v.condition) }] };
    const changes = fields
      .filter((f) => String(v[f]) !== String(prev[f]))
      .map((f) => ({ field: f, before: String(prev[f]), after: String(v[f]) }));
    return { v, changes };
  });
}
