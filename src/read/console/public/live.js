// One page's subscription to /ws: authenticates with the first frame (a browser cannot set
// headers on a websocket), subscribes to its stores, and after a dropped connection comes
// back with `since` = the last position it saw, so no change is missed or seen twice.

const UNAUTHORIZED = 4401;

export class Live {
  /**
   * @param {{ token: () => string | null, storeIds: string[], onFrame: (frame: object) => void,
   *   onSubscribed?: (position: string) => void, onError?: (frame: object) => void, onStatus: (status: string) => void, onExpired: (reason: string) => void }} options
   */
  constructor(options) {
    this.options = options;
    this.position = null;
    this.closed = false;
    this.retries = 0;
    this.timer = null;
    this.socket = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const { token, storeIds, onFrame, onSubscribed, onStatus, onExpired } = this.options;
    const value = token();
    if (!value) return;
    onStatus(this.position === null ? 'connecting' : 'reconnecting');
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    this.socket = socket;
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'authenticate', token: value })));
    socket.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === 'authenticated') {
        socket.send(JSON.stringify({ type: 'subscribe', storeIds, ...(this.position !== null ? { since: this.position } : {}) }));
      } else if (frame.type === 'subscribed') {
        this.retries = 0;
        if (this.position === null) this.position = frame.position;
        onStatus('live');
        onSubscribed?.(frame.position);
      } else if (frame.type === 'stock') {
        this.position = frame.position;
        onFrame(frame);
      } else if (frame.type === 'error') {
        onStatus(`error: ${frame.detail}`);
        this.options.onError?.(frame);
      }
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket || this.closed) return;
      this.socket = null;
      if (event.code === UNAUTHORIZED) {
        this.closed = true;
        onExpired(event.reason || 'the live connection was refused');
        return;
      }
      onStatus('reconnecting');
      // Back off up to 5 s: a restarting server is not hammered by every open console.
      const delay = Math.min(5000, 250 * 2 ** this.retries);
      this.retries += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'page left');
    this.socket = null;
  }
}

/** Calls `action` once `ms` after the last of a burst of calls. */
export function debounce(action, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => action(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
