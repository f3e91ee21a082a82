import { Controller, Get, Injectable, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../identity/access';
import { withTimeout } from '../concurrency/with-timeout';

export type ComponentStatus = 'up' | 'degraded' | 'down';
export interface ComponentHealth {
  readonly status: ComponentStatus;
  readonly [detail: string]: unknown;
}
export type HealthCheck = () => ComponentHealth | Promise<ComponentHealth>;

/**
 * How long one component's check may take. Checks run at once, so `/health`
 * answers within about this long whatever a dependency does (a broker that
 * does not answer, a database that hangs): a check that is late says "down".
 */
export const HEALTH_CHECK_TIMEOUT_MS = 800;
/** A check's own call to a dependency (SELECT 1, a broker request): short enough to say why within HEALTH_CHECK_TIMEOUT_MS. */
export const DEPENDENCY_PROBE_MS = 600;

/** Components register their checks here; `/health` aggregates them. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  /** Per check; tests may shorten it. */
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<{ status: 'ok' | 'degraded' | 'down'; components: Record<string, ComponentHealth> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, ComponentHealth]> => {
        try {
          return [name, await withTimeout(Promise.resolve().then(check), this.timeoutMs)];
        } catch (err) {
          return [name, { status: 'down', error: (err as Error).message }];
        }
      }),
    );
    const components = Object.fromEntries(entries);
    const statuses = entries.map(([, c]) => c.status);
    const status = statuses.includes('down') ? 'down' : statuses.includes('degraded') ? 'degraded' : 'ok';
    return { status, components };
  }
}

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthRegistry) {}

  @Public('load balancers and orchestrators probe it')
  @Get('health')
  @ApiOperation({ summary: 'Readiness: 200 when ok or degraded, 503 when a component is down' })
  @ApiOkResponse({ description: '{status: ok|degraded|down, components: {...}}' })
  async check(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.health.report();
    void reply.status(report.status === 'down' ? 503 : 200).send(report);
  }

  @Public('liveness probe')
  @Get('health/live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves requests, whatever its dependencies (use /health for readiness)' })
  @ApiOkResponse({ description: '{status: "live", uptimeSeconds}' })
  live(): { status: 'live'; uptimeSeconds: number } {
    return { status: 'live', uptimeSeconds: Math.round(process.uptime()) };
  }
}
