import { html, Component } from '../view.js';
import { debounce, Live } from '../live.js';
import { Heading, LiveStatus, Problem } from '../widgets.js';

const SORTS = [
  ['code', 'Code, A to Z'],
  ['name', 'Name, A to Z'],
  ['quantity', 'Quantity, lowest first'],
  ['-quantity', 'Quantity, highest first'],
  ['lowStockThreshold', 'Threshold, lowest first'],
  ['category', 'Category'],
];
const EMPTY_FILTERS = { q: '', category: '', lowStock: '', minQuantity: '', maxQuantity: '', sort: 'code', limit: '50' };

/**
 * One store's stock: the API's list with its filters, sort and cursor paging. /ws keeps the
 * rows shown up to date in place; a change to an item not on the page reloads the page.
 */
export class StorePage extends Component {
  state = { store: null, page: null, error: null, live: null, filters: { ...EMPTY_FILTERS }, applied: { ...EMPTY_FILTERS }, cursors: [] };

  componentDidMount() {
    this.reload = debounce(() => this.load(this.state.cursors.at(-1)), 300);
    const { api, session, storeId } = this.props;
    api.get(`/api/stores/${storeId}`).then(
      (store) => !this.gone && this.setState({ store }),
      (error) => !this.gone && this.setState({ error }),
    );
    // Subscribe first, then read the list at least as new as the subscription: no change falls between.
    this.live = new Live({
      token: session.token,
      storeIds: [storeId],
      onSubscribed: (position) => {
        if (this.state.page === null) void this.load(undefined, position);
      },
      onFrame: (frame) => this.apply(frame),
      // Refused (not your store) or no live feed: the list still loads, and says why if it cannot.
      onError: () => {
        this.live?.close();
        if (this.state.page === null) void this.load();
      },
      onStatus: (live) => {
        this.setState({ live });
        if (live === 'reconnecting' && this.state.page === null) void this.load();
      },
      onExpired: (reason) => session.expire(reason),
    });
  }
  componentWillUnmount() {
    this.gone = true;
    this.reload?.cancel();
    this.live?.close();
  }

  async load(cursor, position) {
    const { api, storeId } = this.props;
    const { applied } = this.state;
    try {
      const page = await api.get(
        `/api/inventory/stores/${storeId}`,
        { ...applied, cursor },
        position ? { 'x-min-position': position } : undefined,
      );
      if (!this.gone) this.setState({ page, error: null });
    } catch (error) {
      if (!this.gone) this.setState({ error });
    }
  }

  apply(frame) {
    const page = this.state.page;
    if (!page) return;
    const index = page.items.findIndex((row) => row.skuId === frame.skuId);
    if (index === -1 || frame.removed) {
      this.reload();
      return;
    }
    const row = page.items[index];
    if (frame.revision <= row.revision) return;
    const items = page.items.slice();
    items[index] = { ...row, quantity: frame.quantity, lowStockThreshold: frame.lowStockThreshold, lowStock: frame.quantity <= frame.lowStockThreshold, revision: frame.revision };
    this.setState({ page: { ...page, items } });
  }

  submit = (event) => {
    event.preventDefault();
    this.setState({ applied: { ...this.state.filters }, cursors: [] }, () => this.load());
  };
  reset = () => this.setState({ filters: { ...EMPTY_FILTERS }, applied: { ...EMPTY_FILTERS }, cursors: [] }, () => this.load());
  next = () => {
    const cursor = this.state.page?.next;
    if (cursor) this.setState({ cursors: [...this.state.cursors, cursor] }, () => this.load(cursor));
  };
  previous = () => {
    const cursors = this.state.cursors.slice(0, -1);
    this.setState({ cursors }, () => this.load(cursors.at(-1)));
  };
  field = (name) => (event) => this.setState({ filters: { ...this.state.filters, [name]: event.currentTarget.value } });

  render({ storeId }, { store, page, error, live, filters, cursors }) {
    return html`<main>
      <${Heading}>${store ? store.name : 'Store'}<//>
      <p><a href="#/stores">All stores</a></p>
      <${LiveStatus} status=${live} />
      <form class="filters" onSubmit=${this.submit} aria-label="Filter the stock">
        <div><label for="f-q">Search code or name</label><input id="f-q" type="search" value=${filters.q} onInput=${this.field('q')} /></div>
        <div><label for="f-category">Category</label><input id="f-category" value=${filters.category} onInput=${this.field('category')} /></div>
        <div><label for="f-low">Low stock</label>
          <select id="f-low" value=${filters.lowStock} onChange=${this.field('lowStock')}>
            <option value="">Any</option><option value="true">At or below threshold</option><option value="false">Above threshold</option>
          </select></div>
        <div><label for="f-min">Quantity from</label><input id="f-min" type="number" min="0" value=${filters.minQuantity} onInput=${this.field('minQuantity')} /></div>
        <div><label for="f-max">Quantity to</label><input id="f-max" type="number" min="0" value=${filters.maxQuantity} onInput=${this.field('maxQuantity')} /></div>
        <div><label for="f-sort">Sort by</label>
          <select id="f-sort" value=${filters.sort} onChange=${this.field('sort')}>${SORTS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}</select></div>
        <div><label for="f-limit">Rows per page</label>
          <select id="f-limit" value=${filters.limit} onChange=${this.field('limit')}>${['20', '50', '100', '200'].map((n) => html`<option value=${n}>${n}</option>`)}</select></div>
        <div class="actions"><button type="submit">Apply</button> <button type="button" onClick=${this.reset}>Reset</button></div>
      </form>
      <${Problem} error=${error} />
      ${page === null ? (error ? null : html`<p>Loading…</p>`) : html`
        <table class="stock" aria-label="Stock">
          <thead><tr><th scope="col">Code</th><th scope="col">Name</th><th scope="col">Category</th><th scope="col">Quantity</th><th scope="col">Threshold</th><th scope="col">Low</th></tr></thead>
          <tbody>
            ${page.items.length === 0 ? html`<tr><td colspan="6">No items match.</td></tr>` : page.items.map((row) => html`<tr key=${row.skuId} data-sku=${row.skuId} class=${row.lowStock ? 'low' : ''}>
              <td><a href=${`#/stores/${storeId}/items/${row.skuId}`}>${row.code}</a></td>
              <td>${row.name}</td><td>${row.category ?? ''}</td>
              <td data-col="quantity">${row.quantity}</td><td data-col="threshold">${row.lowStockThreshold}</td>
              <td>${row.lowStock ? 'low' : ''}</td>
            </tr>`)}
          </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
          <button type="button" onClick=${this.previous} disabled=${cursors.length === 0}>Previous page</button>
          <span>Page ${cursors.length + 1}</span>
          <button type="button" onClick=${this.next} disabled=${!page.next}>Next page</button>
        </nav>`}
    </main>`;
  }
}
