/**
 * Charts on the statistics pages, drawn by Chart.js from the figures the page
 * carries in <script type="application/json" id="stats-chart-data">. Each
 * chart is a picture of a table that is on the page beside it: the table is
 * what screen readers, keyboards, printouts and pages without this script
 * use; the chart only adds a view of its shape.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

interface ChartSpec {
  title: string;
  labels: string[];
  datasets: { label: string; channel?: string; data: number[] }[];
}

// Colours that keep 3:1 against white and tell the channels apart.
const COLOURS: Record<string, string> = { web: '#1f5fa8', email: '#b3470f', phone: '#2a7a3b', visit: '#7a3d91', api: '#5c5c5c' };
const LINE = '#1f5fa8';

function draw(figure: HTMLElement, spec: ChartSpec, kind: 'bar' | 'line'): void {
  const canvas = figure.querySelector('canvas');
  if (!canvas) return;
  figure.hidden = false;
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  new Chart(canvas, {
    type: kind,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((d) => ({
        label: d.label,
        data: d.data,
        backgroundColor: kind === 'bar' ? (COLOURS[d.channel ?? ''] ?? LINE) : LINE,
        borderColor: kind === 'bar' ? (COLOURS[d.channel ?? ''] ?? LINE) : LINE,
        pointRadius: spec.labels.length > 60 ? 0 : 3,
      })),
    },
    options: {
      animation: still ? false : undefined,
      maintainAspectRatio: false,
      responsive: true,
      scales: kind === 'bar' ? { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } : { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: spec.datasets.length > 1 } },
    },
  });
}

const source = document.getElementById('stats-chart-data');
if (source?.textContent) {
  const specs = JSON.parse(source.textContent) as Record<string, ChartSpec>;
  for (const figure of document.querySelectorAll<HTMLElement>('[data-chart]')) {
    const name = figure.dataset.chart ?? '';
    const spec = specs[name];
    if (spec && spec.labels.length) draw(figure, spec, name === 'backlog' ? 'line' : 'bar');
  }
}
