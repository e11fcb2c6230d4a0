import { html, Component } from '../view.js';
import { LineChart } from '../chart.js';
import { debounce, Live } from '../live.js';
import { Heading, LiveStatus, Problem, when } from '../widgets.js';

const TOTALS = [
  ['stockValue', 'Stock value'],
  ['unitsInStock', 'Units in stock'],
  ['stores', 'Stores'],
  ['openStores', 'Open stores'],
  ['skus', 'SKUs'],
  ['items', 'Items held'],
  ['lowStockItems', 'Items at or below threshold'],
  ['outOfStockItems', 'Items out of stock'],
];

/** The inventory dashboard: GET /api/reports/inventory, fetched again (debounced) when /ws says stock changed. */
export class DashboardPage extends Component {
  state = { report: null, error: null, live: null };

  componentDidMount() {
    this.refresh = debounce((position) => this.load(position), 300);
    void this.start();
  }
  componentWillUnmount() {
    this.gone = true;
    this.refresh?.cancel();
    this.live?.close();
  }

  async start() {
    const report = await this.load();
    if (!report || this.gone) return;
    const storeIds = report.perStore.map((store) => store.storeId);
    if (storeIds.length === 0) return;
    const { session } = this.props;
    this.live = new Live({
      token: session.token,
      storeIds,
      onFrame: (frame) => this.refresh(frame.position),
      onStatus: (live) => this.setState({ live }),
      onExpired: (reason) => session.expire(reason),
    });
  }

  /** With the position of the change that prompted it, so the report includes that change. */
  async load(position) {
    try {
      const report = await this.props.api.get('/api/reports/inventory', undefined, position ? { 'x-min-position': position } : undefined);
      if (!this.gone) this.setState({ report, error: null });
      return report;
    } catch (error) {
      if (!this.gone) this.setState({ error });
      return null;
    }
  }

  render(_props, { report, error, live }) {
    return html`<main>
      <${Heading}>Inventory<//>
      <${LiveStatus} status=${live} />
      <${Problem} error=${error} />
      ${report ? this.figures(report) : error ? null : html`<p>Loading…</p>`}
    </main>`;
  }

  figures(report) {
    const days = report.movements.map((day) => Date.parse(`${day.day}T00:00:00Z`) / 1000);
    const below = report.lowest.filter((item) => item.margin <= 0);
    return html`
      <section aria-labelledby="totals-h">
        <h2 id="totals-h">Totals</h2>
        <dl class="figures">
          ${TOTALS.map(([name, label]) => html`<div class="figure"><dt>${label}</dt><dd data-figure=${name}>${String(report[name])}</dd></div>`)}
        </dl>
        <p class="muted">As of ${when(report.generatedAt)}, read model at position ${report.readPosition}.</p>
      </section>
      <section aria-labelledby="stores-h">
        <h2 id="stores-h">Stores</h2>
        <table>
          <thead><tr><th scope="col">Store</th><th scope="col">Items</th><th scope="col">Units</th><th scope="col">Stock value</th><th scope="col">Low</th><th scope="col">Out</th></tr></thead>
          <tbody>
            ${report.perStore.map((store) => html`<tr key=${store.storeId} data-store=${store.storeId}>
              <th scope="row"><a href=${`#/stores/${store.storeId}`}>${store.name}</a></th>
              <td data-col="items">${store.items}</td><td data-col="units">${store.units}</td><td data-col="stockValue">${store.stockValue}</td>
              <td data-col="lowStockItems">${store.lowStockItems}</td><td data-col="outOfStockItems">${store.outOfStockItems}</td>
            </tr>`)}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="low-h">
        <h2 id="low-h">Items at or below their threshold</h2>
        ${below.length === 0 ? html`<p>None.</p>` : html`<table>
          <thead><tr><th scope="col">Store</th><th scope="col">SKU</th><th scope="col">Name</th><th scope="col">Quantity</th><th scope="col">Threshold</th></tr></thead>
          <tbody>${below.map((item) => html`<tr key=${`${item.storeId}/${item.skuId}`} data-low=${item.skuId}>
            <td>${item.storeName}</td>
            <td><a href=${`#/stores/${item.storeId}/items/${item.skuId}`}>${item.code}</a></td>
            <td>${item.name}</td><td>${item.quantity}</td><td>${item.lowStockThreshold}</td>
          </tr>`)}</tbody>
        </table>`}
      </section>
      <section aria-labelledby="moves-h">
        <h2 id="moves-h">Movements, last 30 days</h2>
        <${LineChart} label="Units in and out per day, last 30 UTC days" x=${days} xAsDays=${true}
          series=${[
            { label: 'In', color: '#2a7a3b', values: report.movements.map((day) => day.unitsIn) },
            { label: 'Out', color: '#b3261e', values: report.movements.map((day) => day.unitsOut) },
          ]} />
        <details>
          <summary>The figures</summary>
          <table>
            <thead><tr><th scope="col">Day</th><th scope="col">In</th><th scope="col">Out</th></tr></thead>
            <tbody>${report.movements.map((day) => html`<tr key=${day.day} data-day=${day.day}><td>${day.day}</td><td>${day.unitsIn}</td><td>${day.unitsOut}</td></tr>`)}</tbody>
          </table>
        </details>
      </section>
      <section aria-labelledby="movers-h">
        <h2 id="movers-h">Top movers</h2>
        <div class="columns">
          ${[['last24h', 'Last 24 hours'], ['last7d', 'Last 7 days']].map(([window, label]) => html`<div key=${window}>
            <h3>${label}</h3>
            ${report.topMovers[window].length === 0 ? html`<p>No movements.</p>` : html`<table data-movers=${window}>
              <thead><tr><th scope="col">SKU</th><th scope="col">Name</th><th scope="col">Out</th><th scope="col">In</th></tr></thead>
              <tbody>${report.topMovers[window].map((mover) => html`<tr key=${mover.skuId}><td>${mover.code}</td><td>${mover.name}</td><td>${mover.unitsOut}</td><td>${mover.unitsIn}</td></tr>`)}</tbody>
            </table>`}
          </div>`)}
        </div>
      </section>`;
  }
}
