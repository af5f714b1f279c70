import { describe, expect, it } from 'vitest';
import { diffVersions } from './diff';

describe('diffVersions', () => {
  it('lists what each version changed from the one before, newest first', () => {
    const v1 = { version: 1, name: 'big', condition: 'amount >= 10000', score: 50, enabled: true };
    const v2 = { ...v1, version: 2, enabled: false };
    const v3 = { ...v2, version: 3, condition: 'amount >= 20000', score: 60 };
    expect(diffVersions([v1, v3, v2]).map(({ v, changes }) => [v.version, changes])).toEqual([
      [3, [{ field: 'condition', before: 'amount >= 10000', after: 'amount >= 20000' }, { field: 'score', before: '50', after: '60' }]],
      [2, [{ field: 'enabled', before: 'true', after: 'false' }]],
      [1, [{ field: 'condition', after: 'amount >= 10000' }]],
    ]);
  });
});
