import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { TOPICS, usageAlertMessageV1, usageAlertV1, type UsageAlertV1 } from '@el/contracts';
import { INTEGRATION_EVENTS, type IntegrationEvents } from '@el/messaging';
import { METERING_DB } from '../metering.config';

interface AlertRow {
  entitlement_id: string;
  feature: string;
  period_start: string;
  threshold: number | string;
  customer_id: string;
  cap: number | string;
  used: number | string;
  cap_type: string;
  position: number | string;
  raised_at: string;
  upgrade_hint: string | null;
}

const toAlert = (r: AlertRow): UsageAlertV1 =>
  usageAlertV1({ customerId: r.customer_id, entitlementId: r.entitlement_id, feature: r.feature, periodStart: r.period_start, threshold: Number(r.threshold), cap: Number(r.cap), capType: r.cap_type as 'hard' | 'soft', used: Number(r.used), position: Number(r.position), raisedAt: r.raised_at, upgradeHint: r.upgrade_hint ? (JSON.parse(r.upgrade_hint) as UsageAlertV1['upgradeHint']) : null });

/**
 * Threshold alerts: recorded with the usage that crossed them (mt_alerts, once
 * per entitlement, meter, period and threshold), then published on
 * metering.alerts.v1 and marked published; alerts committed but not yet
 * published (a crash in between) go out at the next start.
 */
@Injectable()
export class UsageAlerts {
  private readonly logger = new Logger('metering');

  constructor(
    @Inject(METERING_DB) private readonly db: DataSource,
    @Inject(INTEGRATION_EVENTS) private readonly bus: IntegrationEvents,
  ) {}

  private get postgres(): boolean {
    return this.db.options.type === 'postgres';
  }

  async publish(alerts: readonly UsageAlertV1[]): Promise<void> {
    try {
      await this.bus.publish(TOPICS.alerts, alerts.map(usageAlertMessageV1));
      for (const a of alerts) {
        const p = this.postgres ? ['$1', '$2', '$3', '$4'] : ['?', '?', '?', '?'];
        await this.db.query(`UPDATE mt_alerts SET published = 1 WHERE entitlement_id = ${p[0]} AND feature = ${p[1]} AND period_start = ${p[2]} AND threshold = ${p[3]}`, [a.entitlementId, a.feature, a.periodStart, a.threshold]);
      }
    } catch (err) {
      this.logger.warn({ err, alerts: alerts.length }, 'alerts recorded but not yet published; they go out at the next start');
    }
  }

  /** Alerts recorded but not published (a crash between the commit and the publish). */
  async publishPending(): Promise<void> {
    const rows: AlertRow[] = await this.db.query('SELECT * FROM mt_alerts WHERE published = 0 ORDER BY position');
    if (rows.length > 0) await this.publish(rows.map(toAlert));
  }

  async ofCustomer(customerId: string, limit = 100): Promise<UsageAlertV1[]> {
    const rows: AlertRow[] = await this.db.query(`SELECT * FROM mt_alerts WHERE customer_id = ${this.postgres ? '$1' : '?'} ORDER BY raised_at DESC, threshold DESC LIMIT ${Math.max(1, Math.min(500, limit))}`, [customerId]);
    return rows.map(toAlert);
  }
}
