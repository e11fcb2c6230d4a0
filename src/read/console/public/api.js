// Calls to the API with the tab's token. A refusal becomes an ApiError carrying what the
// problem+json said and the correlation id; a 401 on a call made with a token ends the session.

export class ApiError extends Error {
  constructor({ status, title, detail, correlationId, errors }) {
    super(title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.correlationId = correlationId;
    this.errors = errors;
  }
}

export function queryString(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function problemOf(response) {
  const correlationId = response.headers.get('x-correlation-id');
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page, say): the status is all there is.
  }
  return new ApiError({
    status: response.status,
    title: typeof body?.title === 'string' ? body.title : `HTTP ${response.status}`,
    detail: typeof body?.detail === 'string' ? body.detail : '',
    correlationId,
    errors: Array.isArray(body?.errors) ? body.errors : [],
  });
}

/** `session` gives the token and hears of its end (`expire(reason)`). */
export function createApi(session) {
  async function call(method, path, { query, body, headers = {} } = {}) {
    const token = session.token();
    const response = await fetch(`${path}${queryString(query)}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 204) return null;
    if (!response.ok) {
      const problem = await problemOf(response);
      if (response.status === 401 && token) session.expire(problem.detail || problem.title);
      throw problem;
    }
    return response.json();
  }
  return {
    get: (path, query, headers) => call('GET', path, { query, headers }),
    post: (path, body) => call('POST', path, { body }),
  };
}
