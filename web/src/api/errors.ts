// One place that turns the server's extensions.code into words for people.
export type ErrorLike = {
  message?: string;
  networkError?: unknown;
  graphQLErrors?: { message: string; extensions?: Record<string, unknown> }[];
};

const messages: Record<string, string> = {
  UNAUTHENTICATED: 'Your session has ended. Sign in again to continue.',
  FORBIDDEN: 'Your role may not do this.',
  NOT_FOUND: 'Not found, or not yours to see.',
  BAD_USER_INPUT: 'Please check the input',
  CONFLICT: 'Someone changed this in the meantime, or the step is not allowed now. Reload and try again',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  UNAVAILABLE: 'The service is busy or restarting. Try again in a moment.',
  INTERNAL: 'Something went wrong on the server. The team has the details in its logs.',
  GRAPHQL_PARSE_FAILED: 'The console sent a request the server could not read. Reload the page.',
  GRAPHQL_VALIDATION_FAILED: 'The console is out of date with the server. Reload the page.',
  PERSISTED_QUERY_NOT_FOUND: 'The server forgot a stored request. Retrying usually helps.',
};

// Codes whose server message is written for the user and worth showing.
const detailed = new Set(['BAD_USER_INPUT', 'CONFLICT']);

export function errorCode(err: ErrorLike | null | undefined): string | undefined {
  const code = err?.graphQLErrors?.find((e) => e.extensions?.code)?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

export function describeError(err: ErrorLike | null | undefined): string {
  if (!err) return '';
  const first = err.graphQLErrors?.[0];
  const code = errorCode(err);
  if (code && messages[code]) {
    return detailed.has(code) && first?.message ? `${messages[code]}: ${first.message}` : messages[code];
  }
  if (err.networkError) return 'The server cannot be reached. Check the connection and try again.';
  return 'Something went wrong. Try again.';
}
