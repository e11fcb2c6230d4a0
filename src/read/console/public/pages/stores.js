import { html, Component } from '../view.js';
import { Heading, Problem } from '../widgets.js';

/** The stores the user may see (staff: their own, as the API answers). */
export class StoresPage extends Component {
  state = { stores: null, error: null };

  async componentDidMount() {
    try {
      const page = await this.props.api.get('/api/stores', { limit: 200, sort: 'name' });
      this.setState({ stores: page.items });
    } catch (error) {
      this.setState({ error });
    }
  }

  render(_props, { stores, error }) {
    return html`<main>
      <${Heading}>Stores<//>
      <${Problem} error=${error} />
      ${stores === null ? (error ? null : html`<p>Loading…</p>`) : stores.length === 0 ? html`<p>No stores.</p>` : html`<ul class="stores">
        ${stores.map((store) => html`<li key=${store.id}><a href=${`#/stores/${store.id}`}>${store.name}</a> <span class="muted">${store.code ?? ''} ${store.status}</span></li>`)}
      </ul>`}
    </main>`;
  }
}
