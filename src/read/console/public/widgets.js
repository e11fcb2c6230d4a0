import { html, Component, createRef } from './view.js';

/** A failed request: the problem's title, its detail, and the correlation id to quote to support. */
export function Problem({ error }) {
  if (!error) return null;
  return html`<div class="problem" role="alert">
    <strong>${error.title ?? String(error)}</strong>
    ${error.detail ? html`<span class="problem-detail"> ${error.detail}</span>` : null}
    ${error.correlationId ? html`<div class="correlation">Correlation id: <code>${error.correlationId}</code></div>` : null}
  </div>`;
}

export function LiveStatus({ status }) {
  if (!status) return null;
  return html`<p class=${`live live-${status.split(':')[0]}`} role="status" aria-live="polite">${status === 'live' ? 'Live' : status === 'reconnecting' ? 'Reconnecting…' : status === 'connecting' ? 'Connecting…' : status}</p>`;
}

/** A page heading that takes focus when the page opens, so a keyboard user starts there. */
export class Heading extends Component {
  ref = createRef();
  componentDidMount() {
    this.ref.current?.focus();
  }
  render({ children }) {
    return html`<h1 tabindex="-1" ref=${this.ref}>${children}</h1>`;
  }
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', { timeZone: 'UTC' }) + ' UTC' : '—');
