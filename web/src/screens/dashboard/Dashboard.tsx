import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { graphql } from '../../gql';
import type { TrendBucket } from '../../gql/graphql';
import { ErrorNotice, Loading } from '../../ui/ui';

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const Dash = graphql(`
  query Dashboard($from: Time!, $to: Time!, $bucket: TrendBucket) {
    riskEventStats(from: $from, to: $to) {
      total open handled meanTimeToHandle
      byLevel { key count } byStatus { key count } byType { key count }
    }
    riskTrend(from: $from, to: $to, bucket: $bucket) { bucketStart transactions low medium high events alerts reject review }
    systemStatus {
      version uptimeSeconds activeSubscriptions migrationVersion rulesLoaded transactionsLastMinute
      database { reachable latencyMs openConnections inUse idle maxOpen waitCount }
      scoringLatency { samples p50 p95 p99 }
      engineLatency { samples p50 p95 p99 }
    }
  }
`);

const spans = { HOUR: 48 * 3600e3, DAY: 30 * 864e5 };

export default function Dashboard() {
  const [bucket, setBucket] = useState<TrendBucket>('HOUR');
  const vars = useMemo(() => {
    const to = new Date(Math.ceil(Date.now() / 3600e3) * 3600e3);
    return { from: new Date(to.getTime() - spans[bucket]).toISOString(), to: to.toISOString(), bucket };
  }, [bucket]);
  const [res] = useQuery({ query: Dash, variables: vars });
  const chartBox = useRef<HTMLDivElement>(null);
  const d = res.data;

  useEffect(() => {
    if (!chartBox.current || !d) return;
    const chart = echarts.init(chartBox.current);
    const x = d.riskTrend.map((p) => {
      const t = new Date(p.bucketStart);
      return bucket === 'HOUR' ? `${t.getDate()}/${t.getMonth() + 1} ${String(t.getHours()).padStart(2, '0')}h` : `${t.getDate()}/${t.getMonth() + 1}`;
    });
    chart.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 40, right: 40, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: x },
      yAxis: [{ type: 'value', name: 'transactions' }, { type: 'value', name: 'risky' }],
      series: [
        { name: 'transactions', type: 'bar', data: d.riskTrend.map((p) => p.transactions), itemStyle: { color: '#b8c7dc' } },
        { name: 'medium', type: 'line', yAxisIndex: 1, data: d.riskTrend.map((p) => p.medium), itemStyle: { color: '#d68910' } },
        { name: 'high', type: 'line', yAxisIndex: 1, data: d.riskTrend.map((p) => p.high), itemStyle: { color: '#c0392b' } },
        { name: 'rejected', type: 'line', yAxisIndex: 1, data: d.riskTrend.map((p) => p.reject), itemStyle: { color: '#6c3483' } },
      ],
    });
    chartBox.current.dataset.points = String(d.riskTrend.length);
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => { window.removeEventListener('resize', resize); chart.dispose(); };
  }, [d, bucket]);

  const s = d?.riskEventStats;
  const sys = d?.systemStatus;
  return (
    <section aria-labelledby="dash-title">
      <div className="titlebar">
        <h1 id="dash-title">Dashboard</h1>
        <label className="inline">Buckets{' '}
          <select value={bucket} onChange={(e) => setBucket(e.target.value as TrendBucket)}>
            <option value="HOUR">hours (48 h)</option><option value="DAY">days (30 d)</option>
          </select>
        </label>
      </div>
      <ErrorNotice error={res.error} />
      <Loading when={res.fetching && !d} />
      {s && (
        <div className="cards" data-testid="stats">
          <div className="card"><b>{s.total}</b><span>risk events</span></div>
          <div className="card"><b>{s.open}</b><span>open</span></div>
          <div className="card"><b>{s.handled}</b><span>handled</span></div>
          <div className="card"><b>{s.meanTimeToHandle != null ? `${(s.meanTimeToHandle / 3600).toFixed(1)} h` : '—'}</b><span>mean time to verdict</span></div>
          {s.byLevel.map((k) => <div className="card" key={k.key}><b>{k.count}</b><span>{k.key}</span></div>)}
        </div>
      )}
      <div ref={chartBox} className="chart" data-testid="trend" role="img" aria-label="Transactions and risky detections over time" />
      {s && (
        <div className="columns">
          <section className="panel"><h2>By status</h2><ul>{s.byStatus.map((k) => <li key={k.key}>{k.key.replaceAll('_', ' ')}: {k.count}</li>)}</ul></section>
          <section className="panel"><h2>By type</h2><ul>{s.byType.map((k) => <li key={k.key}>{k.key}: {k.count}</li>)}</ul></section>
          {sys && (
            <section className="panel" data-testid="system">
              <h2>System</h2>
              <dl className="facts">
                <dt>Version</dt><dd>{sys.version}, up {(sys.uptimeSeconds / 60).toFixed(0)} min, migration {sys.migrationVersion}</dd>
                <dt>Scoring</dt><dd>p50 {sys.scoringLatency.p50.toFixed(1)} ms · p95 {sys.scoringLatency.p95.toFixed(1)} · p99 {sys.scoringLatency.p99.toFixed(1)} ({sys.scoringLatency.samples})</dd>
                <dt>Engine</dt><dd>p50 {sys.engineLatency.p50.toFixed(3)} ms · p99 {sys.engineLatency.p99.toFixed(3)}</dd>
                <dt>Database</dt><dd>{sys.database.reachable ? 'reachable' : 'UNREACHABLE'}, {sys.database.latencyMs.toFixed(1)} ms, pool {sys.database.inUse}/{sys.database.maxOpen} in use, {sys.database.waitCount} waits</dd>
                <dt>Live</dt><dd>{sys.activeSubscriptions} subscribers · {sys.transactionsLastMinute} tx last minute · {sys.rulesLoaded} rules</dd>
              </dl>
            </section>
          )}
        </div>
      )}
    </section>
  );
}
