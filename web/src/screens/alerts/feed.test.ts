import { describe, expect, it } from 'vitest';
import { AlertFeed, type FeedAlert } from './feed';

const alert = (id: number, minute: number): FeedAlert => ({
  id: String(id), createdAt: `2026-12-06T10:${String(minute).padStart(2, '0')}:00Z`, level: 'HIGH', status: 'NEW',
});

describe('AlertFeed', () => {
  it('catches up after a reconnect from the newest alert it has, without duplicates', async () => {
    const server = [alert(1, 0), alert(2, 1)];
    const asked: (string | undefined)[] = [];
    const feed = new AlertFeed<FeedAlert>(async (from) => {
      asked.push(from);
      return server.filter((a) => !from || a.createdAt >= from).reverse();
    }, () => {});

    await feed.connected(); // first connect: history, nothing unread
    expect(feed.alerts.map((a) => a.id)).toEqual(['2', '1']);
    expect(feed.unread.size).toBe(0);

    server.push(alert(3, 2));
    feed.received(alert(3, 2)); // live
    server.push(alert(4, 3), alert(5, 3)); // raised while the socket was down
    await feed.connected(); // reconnect

    expect(asked).toEqual([undefined, '2026-12-06T10:02:00Z']);
    expect(feed.alerts.map((a) => a.id)).toEqual(['5', '4', '3', '2', '1']);
    expect([...feed.unread].sort()).toEqual(['3', '4', '5']);
  });

  it('counts unread, marks read and keeps updates in place', () => {
    const feed = new AlertFeed<FeedAlert>(async () => [], () => {});
    feed.received(alert(1, 0));
    feed.received(alert(1, 0));
    feed.received(alert(2, 1));
    expect(feed.unread.size).toBe(2);
    feed.update({ ...alert(1, 0), status: 'ACKNOWLEDGED' });
    expect(feed.unread.has('1')).toBe(false);
    expect(feed.alerts.find((a) => a.id === '1')?.status).toBe('ACKNOWLEDGED');
    feed.markRead();
    expect(feed.unread.size).toBe(0);
  });
});

describe('AlertFeed.older', () => {
  it('adds history behind the newest without marking it unread', () => {
    const feed = new AlertFeed<FeedAlert>(async () => [], () => {});
    feed.received(alert(9, 30));
    feed.older([alert(2, 1), alert(1, 0)]);
    expect(feed.alerts.map((a) => a.id)).toEqual(['9', '2', '1']);
    expect([...feed.unread]).toEqual(['9']);
    expect(feed.newest).toBe('2026-12-06T10:30:00Z');
  });
});
