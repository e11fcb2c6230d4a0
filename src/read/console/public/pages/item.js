import { html, Component } from '../view.js';
import { debounce, Live } from '../live.js';
import { Heading, LiveStatus, Problem, when } from '../widgets.js';

/** What an event did to the quantity, in words a manager reads. */
function change(entry) {
  const data = entry.data;
  if (typeof data.delta === 'number') return data.delta > 0 ? `+${data.delta}` : String(data.delta);
  if (typeof data.quantity === 'number') return `= ${data.quantity}`;
  if (typeof data.counted === 'number') return `counted ${data.counted}`;
  if (typeof data.lowStockThreshold === 'number') return `threshold ${data.lowStockThreshold}`;
  return '';
}

/** One item of one store: its level, its history from the event store (who, when, why), and its level as of a time. */
export class ItemPage extends Component {
  state = { item: null, sku: null, store: null, history: [], next: null, names: new Map(), error: null, live: null, asOf: '', past: null, pastError: null };

  componentDidMount() {
    const { api, session, storeId, skuId } = this.props;
    this.refresh = debounce(() => this.load(), 200);
    api.get(`/api/skus/${skuId}`).then((sku) => !this.gone && this.setState({ sku }), () => {});
    api.get(`/api/stores/${storeId}`).then((store) => !this.gone && this.setState({ store }), () => {});
    // Usernames for the "who" column: managers and auditors may list users; others see ids.
    if (['manager', 'auditor'].includes(session.user()?.role)) {
      api.get('/api/users', { limit: 200 }).then(
        (page) => !this.gone && this.setState({ names: new Map(page.items.map((user) => [user.id, user.username])) }),
        () => {},
      );
    }
    void this.load();
    this.live = new Live({
      token: session.token,
      storeIds: [storeId],
      onFrame: (frame) => frame.skuId === skuId && this.refresh(),
      onError: () => this.live?.close(),
      onStatus: (live) => this.setState({ live }),
      onExpired: (reason) => session.expire(reason),
    });
  }
  componentWillUnmount() {
    this.gone = true;
    this.refresh?.cancel();
    this.live?.close();
  }

  async load() {
    const { api, storeId, skuId } = this.props;
    try {
      const base = `/api/inventory/stores/${storeId}/items/${skuId}`;
      const [item, history] = await Promise.all([api.get(base).catch(() => null), api.get(`${base}/history`, { limit: 1000 })]);
      if (!this.gone) this.setState({ item, history: history.items, next: history.next, error: null });
    } catch (error) {
      if (!this.gone) this.setState({ error });
    }
  }

  asOf = async (event) => {
    event.preventDefault();
    const { api, storeId, skuId } = this.props;
    const local = this.state.asOf;
    if (!local) return;
    try {
      const past = await api.get(`/api/inventory/stores/${storeId}/items/${skuId}`, { asOf: new Date(local).toISOString() });
      this.setState({ past: { ...past, at: local }, pastError: null });
    } catch (pastError) {
      this.setState({ past: null, pastError });
    }
  };

  render({ storeId }, { item, sku, store, history, next, names, error, live, asOf, past, pastError }) {
    return html`<main>
      <${Heading}>${sku ? `${sku.code} · ${sku.name}` : 'Item'}<//>
      <p><a href=${`#/stores/${storeId}`}>${store ? store.name : 'The store'}</a></p>
      <${LiveStatus} status=${live} />
      <${Problem} error=${error} />
      ${item ? html`<dl class="figures">
        <div class="figure"><dt>Quantity</dt><dd data-figure="quantity">${item.quantity}</dd></div>
        <div class="figure"><dt>Threshold</dt><dd data-figure="threshold">${item.lowStockThreshold}</dd></div>
        <div class="figure"><dt>Revision</dt><dd>${item.revision}</dd></div>
      </dl>` : error ? null : html`<p>${history.length ? 'Removed from this store.' : 'Loading…'}</p>`}
      <form class="filters" onSubmit=${this.asOf} aria-label="Stock as of a time">
        <div><label for="as-of">Stock as of (your local time)</label>
          <input id="as-of" type="datetime-local" step="1" value=${asOf} onInput=${(e) => this.setState({ asOf: e.currentTarget.value })} /></div>
        <div class="actions"><button type="submit">Show</button></div>
      </form>
      <${Problem} error=${pastError} />
      ${past ? html`<p role="status" data-as-of>At ${past.at}: quantity <strong>${past.quantity}</strong>, threshold ${past.lowStockThreshold} (position ${past.position}).</p>` : null}
      <h2>History</h2>
      <table class="history">
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Change</th><th scope="col">Why</th></tr></thead>
        <tbody>
          ${history.slice().reverse().map((entry) => html`<tr key=${entry.revision} data-revision=${entry.revision}>
            <td>${when(entry.at)}</td>
            <td>${entry.actor ? names.get(entry.actor) ?? entry.actor : 'system'}</td>
            <td>${entry.type}</td>
            <td>${change(entry)}</td>
            <td>${[entry.reason, entry.note].filter(Boolean).join(' — ')}</td>
          </tr>`)}
        </tbody>
      </table>
      ${next ? html`<p class="muted">The first 1000 events are shown, newest first.</p>` : null}
    </main>`;
  }
}
