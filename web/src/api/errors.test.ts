import { describe, expect, it } from 'vitest';
import { describeError, errorCode } from './errors';

const gql = (code: string, message = 'm') => ({ graphQLErrors: [{ message, extensions: { code } }] });

describe('describeError', () => {
  it('maps every documented code to its own sentence', () => {
    const codes = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'RATE_LIMITED',
      'UNAVAILABLE', 'INTERNAL', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND'];
    const seen = new Set(codes.map((c) => describeError(gql(c))));
    expect(seen.size).toBe(codes.length);
  });
  it('shows the server message only where it is meant for the user', () => {
    expect(describeError(gql('BAD_USER_INPUT', 'amount must be positive'))).toContain('amount must be positive');
    expect(describeError(gql('CONFLICT', 'version 3, expected 2'))).toContain('version 3, expected 2');
    expect(describeError(gql('INTERNAL', 'pq: relation missing'))).not.toContain('pq:');
  });
  it('covers network failures and unknown codes', () => {
    expect(describeError({ networkError: new Error('x') })).toMatch(/cannot be reached/);
    expect(describeError(gql('SOMETHING_NEW'))).toBe('Something went wrong. Try again.');
    expect(errorCode(gql('FORBIDDEN'))).toBe('FORBIDDEN');
    expect(describeError(null)).toBe('');
  });
});
