import type { ReliabilityBin } from '../core/metrics/calibration/calibration.js';
import type { Outcome, ResultRow } from '../core/metrics/result-row.js';

/** A self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) for a review committee. */
export interface HtmlReportInput {
  modelId: string;
  modelVersion: string;
  referenceName: string;
  currentName: string;
  generatedAt: Date;
  rows: readonly ResultRow[];
  reliability: Outcome<ReliabilityBin[]>;
  /** Shares of scores in equal-width bins of [0, 1]. */
  scoreDistribution: { reference: number[]; current: number[] };
}

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const formatNumber = (value: number | null): string => {
  if (value === null) return '';
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(3);
  return value.toFixed(4).replace(/\.?0+$/, '') || '0';
};

const STATUS_ORDER = { alert: 0, warn: 1, undefined: 2, ok: 3 } as const;

function rowsTable(rows: readonly ResultRow[]): string {
  const header = ['metric', 'feature', 'segment', 'group', 'value', '95% interval', 'p-value', 'n reference', 'n current', 'threshold', 'status', 'reason'];
  const body = rows
    .map((row) => {
      const interval = row.ci_low === null || row.ci_high === null ? '' : `${formatNumber(row.ci_low)} – ${formatNumber(row.ci_high)}`;
      const cells = [row.metric, row.feature ?? '', row.segment ?? '', row.group ?? '', formatNumber(row.value), interval, formatNumber(row.p_value), row.n_reference?.toString() ?? '', row.n_current?.toString() ?? '', formatNumber(row.threshold), row.status, row.reason ?? ''];
      return `<tr class="${row.status}">${cells.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table><thead><tr>${header.map((cell) => `<th>${cell}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const WIDTH = 420;
const HEIGHT = 260;
const MARGIN = 42;
const x = (share: number): number => MARGIN + share * (WIDTH - 2 * MARGIN);
const y = (share: number): number => HEIGHT - MARGIN - share * (HEIGHT - 2 * MARGIN);

function axes(xLabel: string, yLabel: string, yMaximum: number): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((tick) => `<text x="${x(tick)}" y="${HEIGHT - MARGIN + 14}" text-anchor="middle">${tick}</text><text x="${MARGIN - 6}" y="${y(tick) + 4}" text-anchor="end">${Number((tick * yMaximum).toPrecision(2))}</text>`)
    .join('');
  return `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(0)}" class="axis"/><line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(1)}" class="axis"/>${ticks}<text x="${WIDTH / 2}" y="${HEIGHT - 4}" text-anchor="middle">${xLabel}</text><text x="10" y="${HEIGHT / 2}" transform="rotate(-90 10 ${HEIGHT / 2})" text-anchor="middle">${yLabel}</text>`;
}

function reliabilityDiagram(reliability: Outcome<ReliabilityBin[]>): string {
  if (!reliability.defined) return `<p class="note">No reliability diagram: ${escapeHtml(reliability.reason)}.</p>`;
  const points = reliability.value
    .filter((bin) => bin.count > 0 && bin.meanScore.defined && bin.observedRate.defined)
    .map((bin) => ({ score: (bin.meanScore as { value: number }).value, rate: (bin.observedRate as { value: number }).value, count: bin.count }));
  const path = points.map((point, index) => `${index === 0 ? 'M' : 'L'}${x(point.score).toFixed(1)},${y(point.rate).toFixed(1)}`).join(' ');
  const dots = points.map((point) => `<circle cx="${x(point.score).toFixed(1)}" cy="${y(point.rate).toFixed(1)}" r="3.5"><title>mean score ${formatNumber(point.score)}, observed ${formatNumber(point.rate)}, n = ${point.count}</title></circle>`).join('');
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Reliability diagram">${axes('mean predicted risk', 'observed rate', 1)}<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" class="diagonal"/><path d="${path}" class="current"/>${dots}</svg>`;
}

function scoreDistributionChart(distribution: HtmlReportInput['scoreDistribution']): string {
  const bins = distribution.reference.length;
  const highest = Math.max(...distribution.reference, ...distribution.current, 1e-9);
  const bars = (shares: number[], className: string, offset: number): string =>
    shares
      .map((share, index) => {
        const width = (WIDTH - 2 * MARGIN) / bins / 2;
        return `<rect class="${className}" x="${(x(index / bins) + offset * width).toFixed(1)}" y="${y(share / highest).toFixed(1)}" width="${(width - 1).toFixed(1)}" height="${(y(0) - y(share / highest)).toFixed(1)}"><title>${className} ${formatNumber(share)}</title></rect>`;
      })
      .join('');
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Score distributions">${axes('score', 'share of rows', highest)}${bars(distribution.reference, 'reference', 0)}${bars(distribution.current, 'current', 1)}</svg><p class="legend"><span class="swatch reference"></span> reference <span class="swatch current"></span> current</p>`;
}

function groupCharts(rows: readonly ResultRow[]): string {
  const segments = [...new Set(rows.filter((row) => row.metric === 'selection_rate' && row.segment !== null).map((row) => row.segment as string))];
  return segments
    .map((segment) => {
      const groups = rows.filter((row) => row.metric === 'selection_rate' && row.segment === segment);
      const height = 28 + groups.length * 22;
      const bars = groups
        .map((row, index) => {
          const top = 10 + index * 22;
          const label = `<text x="110" y="${top + 13}" text-anchor="end">${escapeHtml(row.group ?? '')}</text>`;
          if (row.value === null) return `${label}<text x="116" y="${top + 13}" class="note">suppressed (n = ${row.n_current ?? '?'})</text>`;
          return `${label}<rect class="current" x="116" y="${top}" width="${(row.value * 280).toFixed(1)}" height="16"/><text x="${(122 + row.value * 280).toFixed(1)}" y="${top + 13}">${formatNumber(row.value)} (n = ${row.n_current})</text>`;
        })
        .join('');
      return `<figure><figcaption>Selection rate by ${escapeHtml(segment)}</figcaption><svg viewBox="0 0 ${WIDTH} ${height}" role="img">${bars}</svg></figure>`;
    })
    .join('\n');
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const counts = { alert: 0, warn: 0, undefined: 0, ok: 0 };
  for (const row of input.rows) counts[row.status] += 1;
  const attention = [...input.rows].filter((row) => row.status === 'alert' || row.status === 'warn').sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
  const section = (title: string, kind: ResultRow['kind']): string => {
    const rows = input.rows.filter((row) => row.kind === kind);
    return rows.length === 0 ? '' : `<section><h2>${title}</h2>${rowsTable(rows)}</section>`;
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil report: ${escapeHtml(input.modelId)} ${escapeHtml(input.modelVersion)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1400px}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.meta{color:#57606a}.summary span{display:inline-block;margin-right:1rem;padding:.2rem .6rem;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{border-bottom:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}tr.alert td{background:#ffebe9}tr.warn td{background:#fff8c5}tr.undefined td{color:#57606a}
.charts{display:flex;flex-wrap:wrap;gap:2rem}svg{width:${WIDTH}px;max-width:100%;font-size:10px}
.axis{stroke:#57606a}.diagonal{stroke:#8c959f;stroke-dasharray:4 3}path.current{fill:none;stroke:#0969da;stroke-width:2}circle{fill:#0969da}
rect.reference,.swatch.reference{fill:#8c959f;background:#8c959f}rect.current,.swatch.current{fill:#0969da;background:#0969da}
.swatch{display:inline-block;width:10px;height:10px}.note{color:#57606a;font-style:italic}figure{margin:0}
</style></head><body>
<h1>${escapeHtml(input.modelId)} ${escapeHtml(input.modelVersion)}</h1>
<p class="meta">Reference <b>${escapeHtml(input.referenceName)}</b>, current <b>${escapeHtml(input.currentName)}</b>. Generated ${input.generatedAt.toISOString()} by Vigil. Every figure is computed exactly on the files; intervals are 95%.</p>
<p class="summary"><span class="alert" style="background:#ffebe9">${counts.alert} alert</span><span style="background:#fff8c5">${counts.warn} warn</span><span style="background:#f6f8fa">${counts.undefined} undefined</span><span>${counts.ok} ok</span></p>
${attention.length > 0 ? `<section><h2>Needs attention</h2>${rowsTable(attention)}</section>` : '<p>No metric crossed its threshold.</p>'}
<section><h2>Plots</h2><div class="charts"><figure><figcaption>Reliability (current)</figcaption>${reliabilityDiagram(input.reliability)}</figure><figure><figcaption>Score distribution</figcaption>${scoreDistributionChart(input.scoreDistribution)}</figure>${groupCharts(input.rows)}</div></section>
${section('Performance', 'performance')}
${section('Calibration', 'calibration')}
${section('Fairness', 'fairness')}
${section('Drift', 'drift')}
${section('Data quality', 'quality')}
</body></html>
`;
}

/** Shares of scores in `bins` equal-width bins of [0, 1] (1.0 in the last). */
export function scoreShares(scores: ArrayLike<number>, bins = 20): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let index = 0; index < scores.length; index++) counts[Math.min(bins - 1, Math.floor((scores[index] as number) * bins))]! += 1;
  return counts.map((count) => (scores.length === 0 ? 0 : count / scores.length));
}
