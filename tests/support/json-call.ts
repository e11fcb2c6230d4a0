/** A JSON answer of the API, with the fields the end-to-end walks read. */
export type JsonAnswer = Record<string, unknown> & { id: string; position: string };

/**
 * fetch for an end-to-end walk of a server started as a process: JSON in and out, the
 * bearer token of the moment (`token()`, empty before login), any answer of 300 or more
 * thrown with its status and body.
 */
export function jsonCaller(base: string, token: () => string) {
  return async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> => {
    const bearer = token();
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as JsonAnswer;
  };
}
