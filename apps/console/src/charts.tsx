import { Area, AreaChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from './api/api';
import { ownCustomer, useMe } from './App';
import { AsyncView, useAsync } from './components';
import { num, pct } from './format';
import { Link, seg } from './router';

const NEAR = 0.8;
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/**
 * A metered feature's usage over its current period against its cap: the
 * running total per window (hourly for daily meters, daily otherwise), the cap
 * as a line, and the upgrade prompt when near or over it.
 */
export function UsageChart({ customerId, entitlementId, feature, period }: { customerId: string; entitlementId: string; feature: string; period?: string }) {
  const me = useMe();
  const windowSize = period === 'day' ? 'hour' : 'day';
  const series = useAsync(() => api.series(customerId, { feature, entitlementId, windowSize }), [customerId, entitlementId, feature, windowSize]);
  return (
    <figure className="chart">
      <AsyncView state={series} what={`${feature} usage`}>
        {(s) => {
          const running = s.aggregation === 'sum' || s.aggregation === 'count';
          let total = 0;
          const measured = s.points.map((p) => {
            total = running ? total + p.value : Math.max(total, p.value);
            return { t: Date.parse(p.windowStart), value: running ? total : p.value };
          });
          const end = Math.min(Date.parse(s.to), Date.now());
          // A running total starts at zero when the period does and holds its value until now.
          const points = measured.length === 0 || !running ? measured : [{ t: Date.parse(s.from), value: 0 }, ...measured, { t: Math.max(end, measured[measured.length - 1]!.t), value: total }];
          const used = total;
          const share = s.cap > 0 ? used / s.cap : 0;
          const fmt = windowSize === 'hour' ? hourFormat : dayFormat;
          const label = `${feature}: ${num(used)} of ${num(s.cap)} used this period (${pct(used, s.cap)} %)`;
          return (
            <>
              <figcaption>
                <strong>{feature}</strong> — {num(used)} of {num(s.cap)} ({pct(used, s.cap)} %)
              </figcaption>
              {points.length === 0 ? (
                <p className="empty">No usage recorded this period.</p>
              ) : (
                <div className="chart-box" role="img" aria-label={label}>
                  <ResponsiveContainer width="100%" height={200}>
                    <AreaChart data={points} margin={{ top: 10, right: 16, bottom: 0, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" />
                      <XAxis dataKey="t" type="number" scale="time" domain={[Date.parse(s.from), Date.parse(s.to)]} tickFormatter={(t: number) => fmt.format(t)} />
                      <YAxis domain={[0, 'auto']} tickFormatter={(v: number) => compact.format(v)} width={48} />
                      <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleString()} formatter={(v) => [num(Number(v)), running ? 'used so far' : 'value']} />
                      <ReferenceLine y={s.cap} ifOverflow="extendDomain" stroke="#b42318" strokeDasharray="6 3" label={{ value: `cap ${num(s.cap)}`, position: 'insideTopRight', fill: '#b42318' }} />
                      <Area type="stepAfter" dataKey="value" stroke="#1d4ed8" fill="#bfdbfe" isAnimationActive={false} />
                    </AreaChart>
                  </ResponsiveContainer>
                </div>
              )}
              {share >= NEAR && (
                <p className={share >= 1 ? 'prompt over' : 'prompt near'} role="note">
                  {share >= 1 ? `Over the ${feature} cap.` : `Near the ${feature} cap (${pct(used, s.cap)} %).`}{' '}
                  {ownCustomer(me) ? <Link to={`/requests?entitlementId=${seg(entitlementId)}&feature=${seg(feature)}`}>Request an upgrade</Link> : 'An upgrade or an add-on would raise it.'}
                </p>
              )}
            </>
          );
        }}
      </AsyncView>
    </figure>
  );
}
