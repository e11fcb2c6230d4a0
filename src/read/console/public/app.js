import { html, render, Component } from './view.js';
import { createApi } from './api.js';
import { createSession } from './session.js';
import { ClusterPage } from './pages/cluster.js';
import { DashboardPage } from './pages/dashboard.js';
import { ItemPage } from './pages/item.js';
import { LoginPage } from './pages/login.js';
import { StorePage } from './pages/store.js';
import { StoresPage } from './pages/stores.js';
import { Heading, Problem } from './widgets.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** What the page shows each role: the API refuses the rest anyway; the page does not offer it. */
const sees = {
  dashboard: (role) => role === 'manager' || role === 'auditor',
  cluster: (role) => role === 'manager',
};

/** Routes live in the hash (#/stores/<id>): one static page, and the browser's back button works. */
function route(hash) {
  const path = hash.replace(/^#/, '') || '/';
  let match;
  if (path === '/') return { name: 'home' };
  if (path === '/dashboard') return { name: 'dashboard' };
  if (path === '/stores') return { name: 'stores' };
  if (path === '/cluster') return { name: 'cluster' };
  if ((match = new RegExp(`^/stores/(${UUID})$`, 'i').exec(path))) return { name: 'store', storeId: match[1] };
  if ((match = new RegExp(`^/stores/(${UUID})/items/(${UUID})$`, 'i').exec(path))) return { name: 'item', storeId: match[1], skuId: match[2] };
  return { name: 'unknown' };
}

class Console extends Component {
  state = { hash: location.hash, reason: null, logoutError: null };

  constructor() {
    super();
    this.session = createSession(() => this.setState({ reason: this.session.takeEndReason() }));
    this.api = createApi(this.session);
  }

  componentDidMount() {
    this.onHash = () => this.setState({ hash: location.hash });
    addEventListener('hashchange', this.onHash);
  }
  componentWillUnmount() {
    removeEventListener('hashchange', this.onHash);
  }

  logout = async () => {
    try {
      await this.api.post('/api/auth/logout');
      this.session.end('You logged out.');
      // The next user starts at their own start page, not at the page this one left open.
      location.hash = '#/';
    } catch (logoutError) {
      // A 401 has ended the session already; anything else is shown where the user is.
      if (logoutError.status !== 401) this.setState({ logoutError });
    }
  };

  render(_props, { hash, reason, logoutError }) {
    const user = this.session.token() ? this.session.user() : null;
    if (!user) return html`<${LoginPage} api=${this.api} session=${this.session} reason=${reason} />`;
    const current = route(hash);
    const props = { api: this.api, session: this.session, user };
    const name = current.name === 'home' ? (sees.dashboard(user.role) ? 'dashboard' : 'stores') : current.name;
    const link = (href, label, page) => html`<li><a href=${href} aria-current=${name === page ? 'page' : undefined}>${label}</a></li>`;
    return html`<div class="shell">
      <header>
        <nav aria-label="Console">
          <ul>
            ${sees.dashboard(user.role) ? link('#/dashboard', 'Inventory', 'dashboard') : null}
            ${link('#/stores', 'Stores', 'stores')}
            ${sees.cluster(user.role) ? link('#/cluster', 'Cluster', 'cluster') : null}
          </ul>
        </nav>
        <div class="user">
          <span>${user.displayName ?? user.username} (${user.role}${user.role === 'auditor' ? ', read-only' : ''})</span>
          <button type="button" onClick=${this.logout}>Log out</button>
        </div>
      </header>
      <${Problem} error=${logoutError} />
      ${this.page(name, current, props, user)}
    </div>`;
  }

  page(name, current, props, user) {
    const key = location.hash;
    if (name === 'dashboard') return sees.dashboard(user.role) ? html`<${DashboardPage} key=${key} ...${props} />` : notForRole('The inventory dashboard');
    if (name === 'cluster') return sees.cluster(user.role) ? html`<${ClusterPage} key=${key} ...${props} />` : notForRole('The cluster status');
    if (name === 'stores') return html`<${StoresPage} key=${key} ...${props} />`;
    if (name === 'store') return html`<${StorePage} key=${key} storeId=${current.storeId} ...${props} />`;
    if (name === 'item') return html`<${ItemPage} key=${key} storeId=${current.storeId} skuId=${current.skuId} ...${props} />`;
    return html`<main><${Heading}>Not found<//><p>No such page. <a href="#/">Back to the start</a>.</p></main>`;
  }
}

const notForRole = (what) => html`<main><${Heading}>Not available<//>
  <${Problem} error=${{ title: `${what} is not available to your role.` }} /></main>`;

const root = document.getElementById('root');
root.textContent = '';
render(html`<${Console} />`, root);
