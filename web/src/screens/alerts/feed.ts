// The live alert list: alerts arrive on the subscription; after every
// (re)connect the feed reads what it missed since the newest alert it has.
export type FeedAlert = { id: string; createdAt: string; level: string; status: string };

const order = (a: FeedAlert, b: FeedAlert) =>
  b.createdAt.localeCompare(a.createdAt) || Number(b.id) - Number(a.id);

export class AlertFeed<A extends FeedAlert> {
  alerts: A[] = [];
  unread = new Set<string>();
  private loaded = false;

  constructor(
    private fetchSince: (from: string | undefined) => Promise<A[]>,
    private changed: (feed: AlertFeed<A>) => void,
    private limit = 2000,
  ) {}

  // newest is where a catch-up starts: the server's filter is createdAt ≥ from,
  // so the boundary alert comes back and is merged away.
  get newest(): string | undefined {
    return this.alerts[0]?.createdAt;
  }

  received(a: A) {
    this.merge([a], true);
  }

  // older adds a page of history read further back (never unread).
  older(page: A[]) {
    this.merge(page, false);
  }

  async connected() {
    const missed = await this.fetchSince(this.newest);
    // What the first page shows is history, not news.
    this.merge(missed, this.loaded);
    this.loaded = true;
  }

  // update replaces an alert after an action on it (acknowledge, resolve).
  update(a: A) {
    this.alerts = this.alerts.map((x) => (x.id === a.id ? a : x));
    this.unread.delete(a.id);
    this.changed(this);
  }

  markRead(id?: string) {
    if (id) this.unread.delete(id);
    else this.unread.clear();
    this.changed(this);
  }

  private merge(incoming: A[], unread: boolean) {
    const byId = new Map(this.alerts.map((a) => [a.id, a]));
    for (const a of incoming) {
      if (unread && !byId.has(a.id)) this.unread.add(a.id);
      byId.set(a.id, a);
    }
    this.alerts = [...byId.values()].sort(order).slice(0, this.limit);
    this.changed(this);
  }
}
