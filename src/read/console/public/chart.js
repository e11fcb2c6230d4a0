import uPlot from '/console/vendor/uplot/uPlot.esm.js';
import { html, Component, createRef } from './view.js';

/**
 * A uPlot line chart. `x` are seconds since the epoch; `series` name each line and its values.
 * The figures are also in a table beside it (in a disclosure), for a screen reader or a keyboard.
 */
export class LineChart extends Component {
  box = createRef();
  plot = null;

  componentDidMount() {
    this.draw();
  }
  componentDidUpdate() {
    if (this.plot && this.plot.series.length === this.props.series.length + 1) this.plot.setData(this.data());
    else this.draw();
  }
  componentWillUnmount() {
    this.plot?.destroy();
  }

  data() {
    return [this.props.x, ...this.props.series.map((line) => line.values)];
  }

  draw() {
    this.plot?.destroy();
    const { series, height = 220, xAsDays = false } = this.props;
    const width = Math.max(320, (this.box.current?.clientWidth ?? 640) - 8);
    this.plot = new uPlot(
      {
        width,
        height,
        scales: { x: { time: true } },
        axes: [{ ...(xAsDays ? { values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) } : {}) }, {}],
        series: [{}, ...series.map((line) => ({ label: line.label, stroke: line.color, width: 2, points: { show: xAsDays } }))],
      },
      this.data(),
      this.box.current,
    );
  }

  render({ label }) {
    return html`<figure class="chart">
      <div ref=${this.box} role="img" aria-label=${label}></div>
      <figcaption>${label}</figcaption>
    </figure>`;
  }
}
