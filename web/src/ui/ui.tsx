// Small shared pieces: error notices, a cursor pager, badges, date formats.
import { useState, type ReactNode } from 'react';
import { describeError, type ErrorLike } from '../api/errors';

export function ErrorNotice({ error }: { error?: ErrorLike | null }) {
  if (!error) return null;
  return <p className="error" role="alert">{describeError(error)}</p>;
}

export function Loading({ when }: { when: boolean }) {
  return when ? <p className="muted" aria-live="polite">Loading…</p> : null;
}

export function Badge({ value }: { value?: string | null }) {
  if (!value) return null;
  return <span className={`badge b-${value.toLowerCase()}`}>{value.replaceAll('_', ' ')}</span>;
}

export const when = (t?: string | null) => (t ? new Date(t).toLocaleString('en-GB', { hour12: false }) : '—');

// useCursor keeps the cursors of the pages seen so "Previous" can walk back.
export function useCursor() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const after = stack[stack.length - 1];
  return {
    after,
    page: stack.length,
    next: (cursor?: string | null) => cursor && setStack((s) => [...s, cursor]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([null]),
  };
}

export function Pager({ cursor, pageInfo, total }: {
  cursor: ReturnType<typeof useCursor>;
  pageInfo?: { hasNextPage: boolean; endCursor?: string | null };
  total?: number;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button onClick={cursor.prev} disabled={cursor.page === 1}>← Previous</button>
      <span>Page {cursor.page}{total !== undefined ? ` · ${total} in all` : ''}</span>
      <button onClick={() => cursor.next(pageInfo?.endCursor)} disabled={!pageInfo?.hasNextPage}>Next →</button>
    </nav>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return <label className="field"><span>{label}</span>{children}</label>;
}

// toInstant turns a datetime-local value into RFC 3339, empty into undefined.
export const toInstant = (v: string) => (v ? new Date(v).toISOString() : undefined);
