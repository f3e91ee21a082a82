import { Histogram, Registry } from 'prom-client';
import { FastCounter, LatencyHistogram } from './fast-metrics';

const asMetric = (m: unknown) => m as Parameters<Registry['registerMetric']>[0];

describe('fast metrics', () => {
  it('expose a histogram exactly as prom-client does for the same observations', async () => {
    const observations = [0.0002, 0.0007, 0.0007, 0.003, 0.04, 7];
    const buckets = [0.0005, 0.001, 0.005, 0.05];

    const ours = new Registry();
    const fast = new LatencyHistogram('req_seconds', 'Request latency', buckets, ['method', 'route']);
    ours.registerMetric(asMetric(fast));
    const get = fast.child({ method: 'GET', route: '/a' });
    const post = fast.child({ route: '/b', method: 'POST' }); // label order given does not matter
    for (const v of observations) get.observe(v);
    post.observe(0.0001);
    expect(fast.child({ method: 'GET', route: '/a' })).toBe(get); // one series per label set

    const reference = new Registry();
    const promHistogram = new Histogram({ name: 'req_seconds', help: 'Request latency', buckets, labelNames: ['method', 'route'], registers: [reference] });
    for (const v of observations) promHistogram.observe({ method: 'GET', route: '/a' }, v);
    promHistogram.observe({ method: 'POST', route: '/b' }, 0.0001);

    expect(await ours.metrics()).toBe(await reference.metrics());
  });

  it('expose a labelled counter exactly as prom-client does', async () => {
    const ours = new Registry();
    const fast = new FastCounter('decisions_total', 'Decisions by code', ['code']);
    ours.registerMetric(asMetric(fast));
    const ok = fast.child({ code: 'OK' });
    ok.inc();
    ok.inc(2);
    fast.child({ code: 'EXPIRED' }).inc();

    const reference = new Registry();
    const { Counter } = await import('prom-client');
    const c = new Counter({ name: 'decisions_total', help: 'Decisions by code', labelNames: ['code'], registers: [reference] });
    c.inc({ code: 'OK' }, 3);
    c.inc({ code: 'EXPIRED' });

    expect(await ours.metrics()).toBe(await reference.metrics());
    fast.reset();
    expect(await ours.metrics()).toContain('decisions_total{code="OK"} 0');
  });
});
