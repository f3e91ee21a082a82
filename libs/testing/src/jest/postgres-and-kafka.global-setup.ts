import kafka from './kafka.global-setup';
import postgres from './postgres.global-setup';

export default async function setup(): Promise<void> {
  await Promise.all([postgres(), kafka()]);
}
