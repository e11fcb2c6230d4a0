import { html, Component } from '../view.js';
import { LineChart } from '../chart.js';
import { Heading, Problem, when } from '../widgets.js';

const EVERY_MS = 5000;
const KEEP_SECONDS = 10 * 60;
const COLORS = ['#1f5fa8', '#b3261e', '#2a7a3b', '#8a5a00', '#6b3fa0'];

const seconds = (value) => (value < 90 ? `${Math.round(value)} s` : value < 5400 ? `${Math.round(value / 60)} min` : `${Math.round(value / 3600)} h`);
const megabytes = (bytes) => `${Math.round(bytes / 1048576)} MB`;

/**
 * Cluster status (managers): GET /api/reports/cluster every 5 s. Subscriber lag over the last
 * minutes is what this page has seen since it opened: the report is a snapshot.
 */
export class ClusterPage extends Component {
  state = { report: null, error: null, samples: [] };

  componentDidMount() {
    void this.load();
    this.timer = setInterval(() => void this.load(), EVERY_MS);
  }
  componentWillUnmount() {
    this.gone = true;
    clearInterval(this.timer);
  }

  async load() {
    try {
      const report = await this.props.api.get('/api/reports/cluster');
      if (this.gone) return;
      const at = Date.parse(report.generatedAt) / 1000;
      const lag = Object.fromEntries(report.subscribers.map((subscriber) => [subscriber.name, subscriber.lagEvents]));
      const samples = [...this.state.samples, { at, lag }].filter((sample) => sample.at > at - KEEP_SECONDS);
      this.setState({ report, samples, error: null });
    } catch (error) {
      if (!this.gone) this.setState({ error });
    }
  }

  render(_props, { report, error, samples }) {
    return html`<main>
      <${Heading}>Cluster<//>
      <${Problem} error=${error} />
      ${report ? this.status(report, samples) : error ? null : html`<p>Loading…</p>`}
    </main>`;
  }

  status(report, samples) {
    const names = report.subscribers.map((subscriber) => subscriber.name);
    return html`
      <p class="muted">As of ${when(report.generatedAt)}; event store head ${report.eventStoreHead}. Refreshed every ${EVERY_MS / 1000} s.</p>
      <section aria-labelledby="processes-h">
        <h2 id="processes-h">Processes</h2>
        <table data-table="processes">
          <thead><tr><th scope="col">Host</th><th scope="col">Pid</th><th scope="col">Roles</th><th scope="col">Heartbeat</th><th scope="col">Up</th><th scope="col">Memory</th><th scope="col">Websockets</th><th scope="col">State</th></tr></thead>
          <tbody>${report.processes.map((process) => html`<tr key=${process.id} class=${process.gone ? 'bad' : ''}>
            <td>${process.host}</td><td>${process.pid}</td><td>${process.roles.join(', ')}</td>
            <td>${seconds(process.heartbeatAgeSeconds)} ago</td><td>${seconds(process.uptimeSeconds)}</td>
            <td>${megabytes(process.memoryBytes)}</td><td>${process.websockets}</td><td>${process.gone ? 'gone' : 'running'}</td>
          </tr>`)}</tbody>
        </table>
      </section>
      <section aria-labelledby="deps-h">
        <h2 id="deps-h">Dependencies</h2>
        <table data-table="dependencies">
          <thead><tr><th scope="col">Dependency</th><th scope="col">Health</th><th scope="col">Latency</th><th scope="col">Error</th></tr></thead>
          <tbody>${report.dependencies.map((dependency) => html`<tr key=${dependency.name} class=${dependency.healthy ? '' : 'bad'}>
            <td>${dependency.name}</td><td>${dependency.healthy ? 'healthy' : 'unhealthy'}</td><td>${dependency.latencyMs} ms</td><td>${dependency.error ?? ''}</td>
          </tr>`)}</tbody>
        </table>
      </section>
      <section aria-labelledby="subs-h">
        <h2 id="subs-h">Subscribers</h2>
        <table data-table="subscribers">
          <thead><tr><th scope="col">Subscriber</th><th scope="col">Checkpoint</th><th scope="col">Lag (events)</th><th scope="col">Lag (age)</th></tr></thead>
          <tbody>${report.subscribers.map((subscriber) => html`<tr key=${subscriber.name}>
            <td>${subscriber.name}</td><td>${subscriber.checkpoint}</td><td>${subscriber.lagEvents}</td><td>${seconds(subscriber.lagSeconds)}</td>
          </tr>`)}</tbody>
        </table>
        <${LineChart} label="Subscriber lag in events, since this page opened" height=${160} x=${samples.map((sample) => sample.at)}
          series=${names.map((name, index) => ({ label: name, color: COLORS[index % COLORS.length], values: samples.map((sample) => sample.lag[name] ?? null) }))} />
      </section>
      <section aria-labelledby="mail-h">
        <h2 id="mail-h">Mail queue</h2>
        ${report.mail ? html`<dl class="figures" data-table="mail">
          <div class="figure"><dt>Pending</dt><dd>${report.mail.pending}</dd></div>
          <div class="figure"><dt>Failing</dt><dd>${report.mail.failing}</dd></div>
          <div class="figure"><dt>Oldest pending</dt><dd>${when(report.mail.oldestPendingAt)}</dd></div>
          <div class="figure"><dt>Sent</dt><dd>${report.mail.sent}</dd></div>
        </dl>` : html`<p>No mail queue in this deployment.</p>`}
      </section>
      ${report.kafka ? html`<section aria-labelledby="kafka-h">
        <h2 id="kafka-h">Kafka consumer lag (${report.kafka.topic})</h2>
        ${report.kafka.error ? html`<p class="problem">${report.kafka.error}</p>` : null}
        <pre class="kafka">${JSON.stringify(report.kafka.groups, null, 2)}</pre>
      </section>` : null}`;
  }
}
