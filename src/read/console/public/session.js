// The token lives for this tab only (sessionStorage): a new tab or a closed browser logs in again.
const TOKEN = 'stockroom.token';
const USER = 'stockroom.user';

export function createSession(onChange) {
  let ended = null;
  const session = {
    token: () => sessionStorage.getItem(TOKEN),
    user() {
      const text = sessionStorage.getItem(USER);
      if (!text) return null;
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    },
    /** Why the last session ended (shown on the login form), once. */
    takeEndReason() {
      const reason = ended;
      ended = null;
      return reason;
    },
    start(token, user) {
      sessionStorage.setItem(TOKEN, token);
      sessionStorage.setItem(USER, JSON.stringify(user));
      ended = null;
      onChange();
    },
    end(reason) {
      if (!session.token()) return;
      sessionStorage.removeItem(TOKEN);
      sessionStorage.removeItem(USER);
      ended = reason;
      onChange();
    },
    expire(reason) {
      session.end(`Your session ended: ${reason}`);
    },
  };
  return session;
}
