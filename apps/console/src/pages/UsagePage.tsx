import { api } from '../api/api';
import { AsyncView, Empty, Table, useAsync } from '../components';
import { UsageChart } from '../charts';
import { num, pct, Time } from '../format';
import { Link, seg } from '../router';

/** A customer's metered features this period: a chart per meter against its cap, and the alerts raised. */
export function UsagePage({ customerId }: { customerId: string }) {
  return (
    <section>
      <h1>Usage of {customerId}</h1>
      <UsageOverview customerId={customerId} />
    </section>
  );
}

export function UsageOverview({ customerId }: { customerId: string }) {
  const usage = useAsync(() => api.usage(customerId), [customerId]);
  const alerts = useAsync(() => api.alerts(customerId), [customerId]);
  return (
    <>
      <AsyncView state={usage} what="usage">
        {(u) =>
          u.meters.length === 0 ? (
            <Empty>No metered feature.</Empty>
          ) : (
            <>
              <div className="charts">
                {u.meters.map((m) => (
                  <UsageChart key={`${m.entitlementId}/${m.feature}`} customerId={customerId} entitlementId={m.entitlementId} feature={m.feature} period={m.period} />
                ))}
              </div>
              <Table label="Meters this period" columns={['Feature', 'Period', 'Used', 'Cap', 'Remaining', 'Entitlement']}>
                {u.meters.map((m) => (
                  <tr key={`${m.entitlementId}/${m.feature}`}>
                    <td>{m.feature}</td>
                    <td>
                      <Time value={m.periodStart} /> – <Time value={m.periodEnd} />
                    </td>
                    <td>
                      {num(m.used)} ({pct(m.used, m.cap)} %)
                    </td>
                    <td>
                      {num(m.cap)} ({m.capType})
                    </td>
                    <td>{num(m.remaining)}</td>
                    <td>
                      <Link to={`/entitlements/${seg(m.entitlementId)}`}>open</Link>
                    </td>
                  </tr>
                ))}
              </Table>
            </>
          )
        }
      </AsyncView>
      <h2>Alerts</h2>
      <AsyncView state={alerts} what="alerts">
        {(a) =>
          a.items.length === 0 ? (
            <Empty>No alert this period.</Empty>
          ) : (
            <ul className="alerts">
              {a.items.map((x) => (
                <li key={x.id}>
                  <Time value={x.raisedAt} /> — {x.feature} reached {x.threshold} % of its {x.capType} cap ({num(x.used)} of {num(x.cap)})
                </li>
              ))}
            </ul>
          )
        }
      </AsyncView>
    </>
  );
}
