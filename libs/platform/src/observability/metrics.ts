import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Access } from '../identity/access';
import { FastCounter, LatencyHistogram } from './fast-metrics';

/**
 * One Prometheus registry per application instance (not prom-client's global),
 * so several apps can live in one process (embedded mode, tests).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new LatencyHistogram(
    'http_server_request_duration_seconds',
    'HTTP request duration by method, route template and status',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ['method', 'route', 'status'],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(this.httpDuration as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return (this.registry.getSingleMetric(name) as Counter<L>) ?? new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** `collect` runs at every scrape; a promise it returns is awaited, so async values are current. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: (g: Gauge<L>) => void | Promise<void>): Gauge<L> {
    return (
      (this.registry.getSingleMetric(name) as Gauge<L>) ??
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        ...(collect ? { collect(this: Gauge<L>) { return collect(this); } } : {}),
      })
    );
  }

  /** A counter for per-request paths (see FastCounter): take `child(labels)` once, `inc()` per event. */
  fastCounter(name: string, help: string, labelNames: readonly string[]): FastCounter {
    const existing = this.registry.getSingleMetric(name) as unknown as FastCounter | undefined;
    if (existing) return existing;
    const counter = new FastCounter(name, help, labelNames);
    this.registry.registerMetric(counter as unknown as Parameters<Registry['registerMetric']>[0]);
    return counter;
  }

  histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return (this.registry.getSingleMetric(name) as Histogram<L>) ?? new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}

@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Access('metrics:read')
  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
