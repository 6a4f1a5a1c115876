// Every call the console makes to the JSON API: the token, problem answers as errors, and
// the database's state, told to whoever listens (the banner), never guessed from silence.

const listeners = { locked: [], down: [], up: [] };
let token = sessionStorage.getItem('roachbank-token');
let databaseDown = false;

/** A refusal or failure, with the API's code (`INSUFFICIENT_FUNDS`, …) when it gave one. */
export class ApiError extends Error {
  constructor(problem) {
    super(problem.code === 'AMBIGUOUS_COMMIT' ? unknownOutcome : (problem.detail ?? problem.title ?? 'The request failed.'));
    this.code = problem.code ?? null;
    /** A refusal (4xx) is a definite answer; a 5xx or no answer leaves the outcome to ask again. */
    this.definite = problem.status !== undefined && problem.status < 500;
  }
}
const unknownOutcome =
  'It is not known whether this went through: the database stopped answering as it committed. Submit it again to find out; it cannot move money twice.';

/** `locked` (a token is needed), `down` (the database cannot be reached), `up` (it is back). */
export const on = (event, listener) => listeners[event].push(listener);
const tell = (event, detail) => {
  for (const listener of listeners[event]) listener(detail);
};

export function useToken(value) {
  token = value;
  if (value) sessionStorage.setItem('roachbank-token', value);
  else sessionStorage.removeItem('roachbank-token');
}

const headersFor = (accept, key, withBody) => ({
  accept,
  ...(withBody ? { 'content-type': 'application/json' } : {}),
  ...(key ? { 'idempotency-key': key } : {}),
  ...(token ? { authorization: `Bearer ${token}` } : {}),
});

/** One request; resolves with the response when it is 2xx, throws an ApiError otherwise. */
async function send(method, path, { body, key, accept = 'application/json' } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headersFor(accept, key, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    void checkDatabase();
    throw new ApiError({ code: 'SERVER_UNREACHABLE', detail: 'The server cannot be reached.' });
  }
  if (response.ok) return response;
  const problem = await response.json().catch(() => ({}));
  if (response.status === 401) {
    const refused = Boolean(token);
    useToken(null);
    tell('locked', refused);
    // The API's own detail speaks to a developer (which header to send); a person needs to know what to do here.
    throw new ApiError({
      code: 'UNAUTHORIZED',
      detail: refused
        ? 'The server did not accept that API token. Enter it again below.'
        : 'This server needs an API token. Enter it below.',
    });
  }
  if (response.status === 503) void checkDatabase();
  throw new ApiError({ status: response.status, ...problem });
}

/** JSON in, JSON out. */
export const api = async (method, path, body, key) => (await send(method, path, { body, key })).json();

/** The same request with another answer type (a CSV statement), as a Blob. */
export const download = async (path, accept) => (await send('GET', path, { accept })).blob();

const healthy = () =>
  fetch('/healthz')
    .then((r) => r.ok)
    .catch(() => false);

/**
 * After a 503 or no answer at all: is the database there? Only when /healthz (no token
 * needed; it reads the database) says no is the database called down, once; then it is
 * asked every 2 s until it answers, and the page is told it is back.
 */
async function checkDatabase() {
  if (databaseDown || (await healthy()) || databaseDown) return;
  databaseDown = true;
  tell('down');
  const probe = async () => {
    if (!(await healthy())) return void setTimeout(probe, 2000);
    databaseDown = false;
    tell('up');
  };
  setTimeout(probe, 2000);
}
