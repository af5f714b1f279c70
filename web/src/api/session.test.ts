import { describe, expect, it } from 'vitest';
import { localExpiry } from './session';

const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: object) => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;

describe('localExpiry', () => {
  it('counts the token lifetime from now, whatever the server clock says', () => {
    const serverFarAhead = 2_000_000_000;
    const token = jwt({ iat: serverFarAhead, exp: serverFarAhead + 900 });
    expect(localExpiry(token, '2033-05-18T03:48:20Z', 1_000)).toBe(1_000 + 900_000);
  });
  it('falls back to expiresAt for a token it cannot read', () => {
    expect(localExpiry('opaque', '2026-12-06T10:00:00Z', 0)).toBe(Date.parse('2026-12-06T10:00:00Z'));
    expect(localExpiry(jwt({ exp: 5 }), '2026-12-06T10:00:00Z', 0)).toBe(Date.parse('2026-12-06T10:00:00Z'));
  });
});
