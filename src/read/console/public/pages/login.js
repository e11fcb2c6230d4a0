import { html, Component } from '../view.js';
import { Heading, Problem } from '../widgets.js';

export class LoginPage extends Component {
  state = { username: '', password: '', busy: false, error: null };

  submit = async (event) => {
    event.preventDefault();
    const { api, session } = this.props;
    this.setState({ busy: true, error: null });
    try {
      const answer = await api.post('/api/auth/login', { username: this.state.username, password: this.state.password });
      session.start(answer.token, answer.user);
    } catch (error) {
      this.setState({ busy: false, error, password: '' });
    }
  };

  render({ reason }, { username, password, busy, error }) {
    return html`<main class="login">
      <${Heading}>Stockroom console<//>
      ${reason ? html`<p class="notice" role="status">${reason}</p>` : null}
      <form onSubmit=${this.submit} aria-describedby="login-error">
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required value=${username}
          onInput=${(e) => this.setState({ username: e.currentTarget.value })} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value=${password}
          onInput=${(e) => this.setState({ password: e.currentTarget.value })} />
        <button type="submit" disabled=${busy}>Log in</button>
      </form>
      <div id="login-error">
        ${error?.status === 401 ? html`<p class="problem" role="alert">${error.detail || error.title}</p>` : html`<${Problem} error=${error} />`}
      </div>
    </main>`;
  }
}
